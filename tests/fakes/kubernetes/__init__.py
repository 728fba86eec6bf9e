"""A stateful fake of kube-apiserver for the kubernetes adapter's tests.

Import the server as ``tests.fakes.kubernetes.server`` (never put this folder
itself on ``sys.path``: its name would shadow the real ``kubernetes`` client).
"""
