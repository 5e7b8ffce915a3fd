export { CephCli, type CephCliOptions, type CephTool, type CallOptions } from './cli.ts';
export { CephError, CephNotFoundError, CephBusyError, CephExistsError, CephUnavailableError } from './errors.ts';
export { rbdSpec, qemuRbdUri } from './names.ts';
