import type { L7PolicyRow, L7RuleRow, ListenerRow, MemberRow, MonitorRow, PoolRow } from '../children.ts';
import type { LoadBalancerRow } from '../provisioning.ts';

// Octavia v2's bodies, as plain functions of the records (and of the ids of related ones).

const iso = (d: Date | null) => (d ? d.toISOString().replace(/\.\d+Z$/, '') : null);
const ids = (list: string[]) => list.map((id) => ({ id }));

const common = (r: LoadBalancerRow | ListenerRow | PoolRow | MemberRow | MonitorRow | L7PolicyRow | L7RuleRow) => ({
  id: r.id,
  name: r.name,
  description: r.description,
  provisioning_status: r.provisioningStatus,
  operating_status: r.operatingStatus,
  admin_state_up: r.adminStateUp,
  project_id: r.projectId,
  tenant_id: r.projectId,
  created_at: iso(r.createdAt),
  updated_at: iso(r.updatedAt),
  tags: r.tags,
});

export const loadBalancerView = (lb: LoadBalancerRow, related: { listeners: string[]; pools: string[] }) => ({
  ...common(lb),
  vip_address: lb.vipAddress,
  vip_port_id: lb.vipPortId,
  vip_subnet_id: lb.vipSubnetId,
  vip_network_id: lb.vipNetworkId,
  vip_qos_policy_id: null,
  additional_vips: [],
  listeners: ids(related.listeners),
  pools: ids(related.pools),
  provider: lb.provider,
  flavor_id: null,
  availability_zone: null,
  vip_vnic_type: 'normal',
});

export const listenerView = (l: ListenerRow, l7policies: string[] = []) => ({
  ...common(l),
  protocol: l.protocol,
  protocol_port: l.protocolPort,
  connection_limit: l.connectionLimit,
  default_tls_container_ref: null,
  sni_container_refs: [],
  default_pool_id: l.defaultPoolId,
  l7policies: ids(l7policies),
  insert_headers: l.insertHeaders,
  loadbalancers: ids([l.loadBalancerId]),
  timeout_client_data: l.timeoutClientData,
  timeout_member_connect: l.timeoutMemberConnect,
  timeout_member_data: l.timeoutMemberData,
  timeout_tcp_inspect: l.timeoutTcpInspect,
  client_ca_tls_container_ref: null,
  client_authentication: 'NONE',
  client_crl_container_ref: null,
  allowed_cidrs: l.allowedCidrs,
  tls_ciphers: null,
  tls_versions: null,
  alpn_protocols: null,
  hsts_max_age: null,
  hsts_include_subdomains: false,
  hsts_preload: false,
});

export const poolView = (p: PoolRow, related: { listeners: string[]; members: string[]; monitor?: string }) => ({
  ...common(p),
  protocol: p.protocol,
  lb_algorithm: p.lbAlgorithm,
  session_persistence: p.sessionPersistence,
  loadbalancers: ids([p.loadBalancerId]),
  listeners: ids(related.listeners),
  members: ids(related.members),
  healthmonitor_id: related.monitor ?? null,
  tls_container_ref: null,
  ca_tls_container_ref: null,
  crl_container_ref: null,
  tls_enabled: false,
  tls_ciphers: null,
  tls_versions: null,
  alpn_protocols: null,
});

export const memberView = (m: MemberRow) => {
  const { description: _, ...rest } = common(m);
  return {
    ...rest,
    address: m.address,
    protocol_port: m.protocolPort,
    weight: m.weight,
    backup: m.backup,
    subnet_id: m.subnetId,
    monitor_address: m.monitorAddress,
    monitor_port: m.monitorPort,
    vnic_type: 'normal',
  };
};

export const monitorView = (h: MonitorRow) => {
  const { description: _, ...rest } = common(h);
  return {
    ...rest,
    type: h.type,
    delay: h.delay,
    timeout: h.timeout,
    max_retries: h.maxRetries,
    max_retries_down: h.maxRetriesDown,
    http_method: h.httpMethod,
    url_path: h.urlPath,
    expected_codes: h.expectedCodes,
    http_version: null,
    domain_name: null,
    pools: ids([h.poolId]),
  };
};

export const l7PolicyView = (p: L7PolicyRow, rules: string[]) => ({
  ...common(p),
  listener_id: p.listenerId,
  action: p.action,
  position: p.position,
  redirect_pool_id: p.redirectPoolId,
  redirect_url: p.redirectUrl,
  redirect_prefix: p.redirectPrefix,
  redirect_http_code: p.redirectHttpCode,
  rules: ids(rules),
});

export const l7RuleView = (r: L7RuleRow) => {
  const { name: _n, description: _d, ...rest } = common(r);
  return { ...rest, type: r.type, compare_type: r.compareType, key: r.key, value: r.value, invert: r.invert };
};
