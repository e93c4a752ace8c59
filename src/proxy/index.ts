// The proxy stage: CONNECT handling, TLS termination on the CONNECT socket, tunnels, plain-HTTP forwarding.
export { createProxyServer, type ProxyServer } from './server.js';
export { type ProxyDeps, type ProxyLimits, type StreamStage, type CredentialStage, type MaskEngineLike } from './deps.js';
export { parseConnectAuthority, parseAbsoluteTarget, parseHostHeader, BadTargetError } from './authority.js';
