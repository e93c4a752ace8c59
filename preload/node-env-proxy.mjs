// Preload for Node.js < 22.21 (NODE_OPTIONS=--import=<this file>, printed by `wiretrail env`): those versions
// ignore NODE_USE_ENV_PROXY, so fetch-based SDKs (openai, @anthropic-ai/sdk, …) would go direct or fail
// silently. This installs undici's EnvHttpProxyAgent as the global dispatcher, which the built-in fetch reads
// (the dispatcher lives under a global symbol shared by every undici copy in the process). It then honours
// HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) exactly as NODE_USE_ENV_PROXY does on newer Node.
// Trust comes from NODE_EXTRA_CA_CERTS, which undici's TLS connections use like every other.
// Plain JavaScript on purpose: it runs in the client's process, without a build step or tsx.
import { EnvHttpProxyAgent, setGlobalDispatcher } from 'undici';

const [major, minor] = process.versions.node.split('.').map(Number);
const native = major >= 24 || (major === 22 && minor >= 21);
const wanted = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((k) => process.env[k]);
// On a Node that proxies natively the built-in support is left alone (it also covers node:https).
if (wanted && !(native && process.env.NODE_USE_ENV_PROXY === '1')) {
  setGlobalDispatcher(new EnvHttpProxyAgent());
}
