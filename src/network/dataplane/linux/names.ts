// The names of everything the data plane makes. Linux caps interface names at 15 characters and
// iptables chain names at 28, so devices carry 11 characters of an id (as Neutron's Linux agents
// name them) and the full id goes into the device's alias.

const short = (id: string) => id.slice(0, 11);

/** A network's own bridge (not used by flat networks, which ride their physical bridge). */
export const bridgeName = (networkId: string) => `brq${short(networkId)}`;
/** A VLAN network's tagged sub-interface of its physical bridge. */
export const vlanName = (networkId: string) => `vl-${short(networkId)}`;
/** A vxlan network's tunnel device on its bridge, on a host of a multi-host cloud. */
export const vxlanName = (networkId: string) => `vx-${short(networkId)}`;

/** Router legs: `qr-`/`qg-` inside the router's namespace, their peers on the bridges. */
export const routerLeg = (portId: string) => ({ inside: `qr-${short(portId)}`, outside: `vr-${short(portId)}` });
export const gatewayLeg = (portId: string) => ({ inside: `qg-${short(portId)}`, outside: `vg-${short(portId)}` });
/** The DHCP port's leg: `ns-` inside the DHCP namespace. */
export const dhcpLeg = (portId: string) => ({ inside: `ns-${short(portId)}`, outside: `vd-${short(portId)}` });

/** The alias that marks a device as this cloud's and holds the full id of what it stands for. */
export const aliasOf = (prefix: string, id: string) => `${prefix}:${id}`;
export const idOfAlias = (prefix: string, alias: string | undefined) => (alias?.startsWith(`${prefix}:`) ? alias.slice(prefix.length + 1) : undefined);

export const namespaces = (prefix: string) => ({
  router: (id: string) => `${prefix}-qrouter-${id}`,
  dhcp: (networkId: string) => `${prefix}-qdhcp-${networkId}`,
});

/** iptables chains are at most 28 characters: `<prefix>-i<11>` must fit. */
export const PREFIX = /^[a-z][a-z0-9-]{0,13}$/;
