// A real OpenID Connect provider for the SSO tests: panva's oidc-provider (OpenID Certified),
// on 127.0.0.1 at a free port, with one confidential client, PKCE required, and its development
// login form (any login name signs in as that subject; the password is not checked).
//   CLIENT_SECRET=… REDIRECT_URI=http://…/callback ACCOUNTS='{"ann":{"email":…,"name":…,"employee":true}}' node provider.mjs
// Prints "listening on http://127.0.0.1:PORT". SIGUSR1 rotates the signing key: a new key (new
// kid) signs from then on and the old one leaves the JWKS, as after an IdP's key rotation.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const accounts = JSON.parse(process.env.ACCOUNTS ?? '{}');

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

function provider(key) {
  const instance = new Provider(issuer, {
    clients: [{
      client_id: 'framehouse',
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [key] },
    pkce: { methods: ['S256'], required: () => true },
    scopes: ['openid', 'email', 'profile', 'employee'],
    claims: { email: ['email', 'email_verified'], profile: ['name'], employee: ['employee'] },
    // The requested claims go into the ID token too (the relying party reads only that).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    cookies: { keys: [randomUUID()] },
    async findAccount(ctx, sub) {
      const known = accounts[sub] ?? {};
      return {
        accountId: sub,
        async claims() {
          return { sub, email: known.email, email_verified: known.email_verified ?? true, name: known.name,
                   employee: known.employee };
        },
      };
    },
  });
  return instance.callback();
}

let handle = provider(signingKey());
server.on('request', (request, response) => handle(request, response));
process.on('SIGUSR1', () => {
  handle = provider(signingKey());
  console.log('rotated');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`listening on ${issuer}`);
