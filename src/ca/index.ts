// CA stage: the proxy's own certificate authority and the per-host leaves it mints.
export {
  loadOrCreateCA,
  type CertificateAuthority,
  type LoadedCertificateAuthority,
  type LeafCertificate,
  type CaOptions,
  type CaStats,
  CA_VALIDITY_MS,
  CA_EXPIRY_WARNING_MS,
  DEFAULT_LEAF_VALIDITY_DAYS,
  DEFAULT_LEAF_CACHE_SIZE,
  DEFAULT_CONTEXT_CACHE_SIZE,
  LEAF_BACKDATE_MS,
} from './authority.js';
export { exportCA, type ExportFormat } from './export.js';
export { caPaths, CA_CERT_FILE, CA_KEY_FILE } from './store.js';
export {
  clientEnv,
  formatEnv,
  writeTrustBundle,
  checkProxyUrl,
  parseNoProxy,
  DEFAULT_PROXY_URL,
  DEFAULT_NO_PROXY,
  BUNDLE_FILE,
  SHELLS,
  type Shell,
  type ClientEnvOptions,
} from './client-env.js';
export {
  CLIENTS,
  clientRecipe,
  formatEnvLines,
  nodeProxyPreload,
  preloadOption,
  preloadPath,
  type ClientName,
  type EnvLine,
} from './client-recipes.js';
