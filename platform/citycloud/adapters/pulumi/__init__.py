"""Pulumi: runs the program in infra/ through Pulumi's Automation API."""
