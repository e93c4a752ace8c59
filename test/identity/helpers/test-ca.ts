// A throwaway CA and a leaf for 127.0.0.1 / localhost, so the test issuer serves real HTTPS that
// the code under test verifies against `ca_file` (verification is never turned off).
import { makeTestPki as makePki } from '../../helpers/test-pki.js';

export interface TestPki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export function makeTestPki(): TestPki {
  const pki = makePki('wiretrail identity test CA', [['127.0.0.1', 'localhost']]);
  return { caPem: pki.caPem, certPem: pki.leaves[0]!.certPem, keyPem: pki.leaves[0]!.keyPem };
}
