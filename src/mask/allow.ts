// The built-in allow layer: values that look like credentials but are documented examples,
// placeholders, ciphertext or public material. Applied to every rule's hit (before the user's
// `allow` list), on the whole value or, for a token committed early, on its committed head.
// Sources: AWS's documented example keys (IAM user guide), gitleaks' global allowlist
// (${VAR}, {{ … }}, %VAR%), SealedSecrets / SOPS / Vault transit / Ansible Vault ciphertext
// formats, publishable keys that are meant to be public (Stripe / Clerk pk_…).

/** AWS documentation examples: AKIAIOSFODNN7EXAMPLE, wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, … */
const AWS_EXAMPLE = /^(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{0,12}EXAMPLE$|EXAMPLEKEY$|EXAMPLE(?:TOKEN)?$/;

const CIPHERTEXT = [
  /^vault:v\d+:/, // Vault transit
  /^ENC\[(?:AES256_GCM|PGP|KMS),/, // SOPS
  /^\$ANSIBLE_VAULT;/, // Ansible Vault
  /^Ag[A-Za-z0-9+/]{96}/, // SealedSecrets encryptedData (RSA-OAEP session key + AES-GCM, base64, ≥ 300 chars)
];

const PLACEHOLDER = [
  /^\[MASKED:[^\]]*\]$/, // our own placeholder, masked once already
  /^\$\{[^}]*\}$|^\$\{\{[^}]*\}\}$|^\{\{[^}]*\}\}$|^%[A-Za-z_]+%$|^@[A-Za-z_]+@$/,
  /^<[^<>]*>$/,
];

/** Publishable keys, public by design. */
const PUBLIC = /^pk_(?:live|test)_[A-Za-z0-9]+$/;

/** True when `value` (a whole secret, or the committed head of a token) must pass unchanged. */
export function builtinAllowed(value: string): boolean {
  if (AWS_EXAMPLE.test(value)) return true;
  if (PUBLIC.test(value)) return true;
  for (const re of CIPHERTEXT) if (re.test(value)) return true;
  for (const re of PLACEHOLDER) if (re.test(value)) return true;
  return false;
}

/**
 * A committed head that may still turn out to be allowed once its token is complete (an AWS key
 * id could end in EXAMPLE): the scanner waits for the whole token instead of committing.
 */
export function mayBeAllowed(head: string): boolean {
  return /^(?:AKIA|ASIA|ABIA|ACCA)/.test(head) || /^wJalr|^je7Mt/.test(head);
}
