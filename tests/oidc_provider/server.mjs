// An OpenID Connect provider on loopback for the portal's single sign-on tests.
//
// Environment:
//   OIDC_PROVIDER_PORT           port to listen on (127.0.0.1 only); the issuer is
//                                http://127.0.0.1:<port>
//   OIDC_PROVIDER_CLIENT_ID      the portal's client id
//   OIDC_PROVIDER_CLIENT_SECRET  the portal's client secret
//   OIDC_PROVIDER_REDIRECT_URIS  the portal's callback URLs, separated by spaces
//   OIDC_PROVIDER_PUBLIC_CLIENT_ID  optional: a second, public client (no secret, PKCE only)
//                                   with the same callback URLs
//
// The login and consent pages are the library's own development interactions: any of the
// accounts below signs in with any password. Never expose this server beyond loopback.
import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return value;
}

const port = Number(required('OIDC_PROVIDER_PORT'));
const issuer = `http://127.0.0.1:${port}`;

// Test accounts: the login name is the account id and the subject ("sub").
const ACCOUNTS = {
  'ada': { email: 'ada.lovelace@idp.example', email_verified: true, name: 'Ada Lovelace' },
  'grace': { email: 'grace.hopper@idp.example', email_verified: true, name: 'Grace Hopper' },
  'katherine': {
    email: 'katherine.johnson@idp.example',
    email_verified: false,
    name: 'Katherine Johnson',
  },
};

const redirectUris = required('OIDC_PROVIDER_REDIRECT_URIS').split(/\s+/).filter(Boolean);
const clients = [
  {
    client_id: required('OIDC_PROVIDER_CLIENT_ID'),
    client_secret: required('OIDC_PROVIDER_CLIENT_SECRET'),
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
];
if (process.env.OIDC_PROVIDER_PUBLIC_CLIENT_ID) {
  clients.push({
    client_id: process.env.OIDC_PROVIDER_PUBLIC_CLIENT_ID,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });
}

const configuration = {
  clients,
  // Every authorization request must carry an S256 code challenge.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account };
      },
    };
  },
  cookies: { keys: ['portal-test-provider-cookie-key-not-a-secret'] },
  // Plain HTTP on loopback: cookies without the Secure flag are what a test needs.
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Error</title><h1>${out.error}</h1>`
      + `<p>${String(out.error_description || '').replace(/[<>&"]/g, '')}</p>`;
  },
};

const provider = new Provider(issuer, configuration);
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
