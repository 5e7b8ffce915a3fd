// The client's public surface, for the CLI, the tests and the dashboard.
export { ClientError, HttpError } from './errors.ts';
export { Session, identityV3, type SessionOptions, type Credentials, type Scope, type Ref, type Token, type CatalogEntry } from './session.ts';
export { Collection } from './collection.ts';
export { IdentityClient } from './identity.ts';
export type * from './identity.ts';
export { ImageClient } from './image.ts';
export type * from './image.ts';
export { resolveOptions, sessionOptions, fromEnv, fromCloud, OPTION_KEYS, type Options, type OptionKey } from './config.ts';
