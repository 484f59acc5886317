// An Ed25519 key pair for API tokens: oncall signs with the private JWK (AUTH_SIGNING_KEY), every
// service checks with the public JWKS (AUTH_PUBLIC_KEYS). Used by `npm start` and `npm run keys`.
import { generateKeyPairSync } from 'node:crypto';

export function newSigningKeys(kid = new Date().toISOString().slice(0, 10)) {
  const { x, d } = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return { signingKey: { kty: 'OKP', crv: 'Ed25519', x, d, kid }, publicKeys: { keys: [{ kty: 'OKP', crv: 'Ed25519', x, kid }] } };
}
