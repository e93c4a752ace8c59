// Issuers that sign tokens for anyone: every GitHub repository, every gitlab.com project, every
// Google account can get a token with `aud: wiretrail`. Trusting one without pinning the owner in
// `required_claims` lets a stranger's CI spend the organisation's injected API keys, so it is a
// start error. A claim pins the owner when every allowed value fixes the tenant part literally.
import { allowedValues, hasWildcard, type RequiredClaims } from './claim-conditions.js';

/** How one claim can pin the tenant: true when the allowed value names exactly one owner. */
type Pin = (value: string) => boolean;

interface MultiTenantIssuer {
  name: string;
  matches(issuer: string): boolean;
  pins: Record<string, Pin>;
  /** When the issuer URL itself names the tenant (CircleCI's /org/<id>), no claim is needed. */
  issuerPins?: (issuer: string) => boolean;
  example: string;
}

const literal: Pin = (v) => !hasWildcard(v);

/** "owner/…": the part before the first `sep` is literal and non-empty (a fully literal value also pins). */
const ownerFirst =
  (sep: string, prefix = ''): Pin =>
  (v) => {
    if (!v.startsWith(prefix)) return false;
    const rest = v.slice(prefix.length);
    if (!hasWildcard(rest)) return rest.length > 0;
    const cut = rest.indexOf(sep);
    return cut > 0 && !hasWildcard(rest.slice(0, cut));
  };

/** "…@domain": the domain after the last '@' is literal. */
const emailDomain: Pin = (v) => {
  const at = v.lastIndexOf('@');
  return at >= 0 && at < v.length - 1 && !hasWildcard(v.slice(at + 1));
};

const exactIssuer = (url: string) => (issuer: string) => issuer.replace(/\/+$/, '') === url;

export const MULTI_TENANT_ISSUERS: readonly MultiTenantIssuer[] = [
  {
    name: 'GitHub Actions (every repository on github.com)',
    matches: exactIssuer('https://token.actions.githubusercontent.com'),
    pins: { repository_owner: literal, repository_owner_id: literal, repository: ownerFirst('/'), repository_id: literal, sub: ownerFirst('/', 'repo:'), enterprise: literal, enterprise_id: literal },
    example: 'repository_owner: your-org',
  },
  {
    name: 'GitLab.com CI (every project on gitlab.com)',
    matches: exactIssuer('https://gitlab.com'),
    pins: { namespace_path: ownerFirst('/'), namespace_id: literal, project_path: ownerFirst('/'), project_id: literal, sub: ownerFirst('/', 'project_path:') },
    example: 'namespace_path: your-group',
  },
  {
    name: 'CircleCI (every organisation)',
    matches: (i) => /^https:\/\/oidc\.circleci\.com(\/|$)/.test(i),
    pins: { 'oidc.circleci.com/org-id': literal, 'oidc.circleci.com/project-id': literal, sub: ownerFirst('/', 'org/') },
    issuerPins: (i) => /^https:\/\/oidc\.circleci\.com\/org\/[^/*?]+\/?$/.test(i),
    example: '"oidc.circleci.com/org-id": <your organisation id>',
  },
  {
    name: 'Buildkite (every organisation)',
    matches: exactIssuer('https://agent.buildkite.com'),
    pins: { organization_slug: literal, organization_id: literal, sub: ownerFirst(':', 'organization:') },
    example: 'organization_slug: your-org',
  },
  {
    name: 'Terraform Cloud (every organisation)',
    matches: exactIssuer('https://app.terraform.io'),
    pins: { terraform_organization_name: literal, terraform_organization_id: literal, sub: ownerFirst(':', 'organization:') },
    example: 'terraform_organization_name: your-org',
  },
  {
    name: 'Google accounts (every Google account)',
    matches: (i) => i === 'https://accounts.google.com' || i === 'accounts.google.com',
    pins: { hd: literal, email: emailDomain, sub: literal },
    example: 'hd: your-domain.example',
  },
];

export function multiTenantIssuer(issuer: string): MultiTenantIssuer | undefined {
  return MULTI_TENANT_ISSUERS.find((m) => m.matches(issuer));
}

/**
 * Throws when `issuer` is a known multi-tenant issuer and no required claim pins the owner with all
 * of its allowed values.
 */
export function requireOwnerPinned(issuer: string, required: RequiredClaims | undefined): void {
  const mt = multiTenantIssuer(issuer);
  if (!mt || mt.issuerPins?.(issuer)) return;
  const pinned = Object.entries(required ?? {}).some(([claim, values]) => {
    const pin = mt.pins[claim];
    return pin !== undefined && allowedValues(values).every(pin);
  });
  if (pinned) return;
  throw new Error(
    `${mt.name} is a multi-tenant issuer: anyone can get a token from it for audience wiretrail. ` +
      `Pin the owner with required_claims (one of ${Object.keys(mt.pins).join(', ')}; no wildcard in the owner part), e.g. required_claims: { ${mt.example} }`,
  );
}
