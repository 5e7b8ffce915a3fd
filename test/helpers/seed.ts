/**
 * The seed workflow's networks, made with the CLI given (openstack or nubo, same arguments): the
 * tenant network private-net with 192.168.10.0/24, the flat external network public-net on
 * physnet1 with 172.24.4.0/24 (the host is 172.24.4.1, as on DevStack's br-ex), and myrouter
 * between them.
 */
export async function seedNetworks(cli: (...args: string[]) => Promise<string>): Promise<void> {
  await cli('network', 'create', 'private-net');
  await cli('subnet', 'create', '--network', 'private-net', '--subnet-range', '192.168.10.0/24', 'private-subnet');
  await cli('network', 'create', 'public-net', '--external', '--provider-physical-network', 'physnet1', '--provider-network-type', 'flat');
  await cli(
    ...['subnet', 'create', '--network', 'public-net', '--subnet-range', '172.24.4.0/24', '--no-dhcp', '--gateway', '172.24.4.1'],
    ...['--allocation-pool', 'start=172.24.4.10,end=172.24.4.200', 'public-subnet'],
  );
  await cli('router', 'create', 'myrouter');
  await cli('router', 'set', 'myrouter', '--external-gateway', 'public-net');
  await cli('router', 'add', 'subnet', 'myrouter', 'private-subnet');
}
