"""An ML2 mechanism driver for the test OpenStack that binds every port.

scripts/devcloud runs neutron-server without agents (there is no data plane on
the test machine), and no shipped mechanism driver binds a port without a live
agent, so Nova's boots would end in PortBindingFailed. This driver accepts the
first segment offered on any host, as an Open vSwitch port that is already
ACTIVE, which is all Nova's fake virt driver needs. It is loaded through the
``neutron.ml2.mechanism_drivers`` entry point declared in the dist-info folder
beside it, found because scripts/devcloud puts this folder on PYTHONPATH.

Test scaffolding only: it never touches a network device.
"""

import logging

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api

LOG = logging.getLogger(__name__)


class BindEveryPortDriver(api.MechanismDriver):
    """Binds every port it is offered, on any host, to its first segment."""

    def initialize(self):
        LOG.info("devcloud_bind: binding every port without an agent")

    @property
    def connectivity(self):
        # "l2" lets Neutron pick this driver for ports without an IP address too.
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True},
                status=constants.PORT_STATUS_ACTIVE,
            )
            LOG.debug(
                "devcloud_bind: bound port %s on host %s to segment %s",
                context.current["id"],
                context.host,
                segment[api.ID],
            )
            return
