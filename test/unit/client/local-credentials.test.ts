import { loopbackCredentials } from '../../../shared/client/local';

describe('loopbackCredentials', () => {
  it.each([
    ['loopback, no credentials in the environment', 'http://127.0.0.1:8000', {}, true],
    ['localhost', 'http://localhost:4566', {}, true],
    ['IPv6 loopback', 'http://[::1]:8000', {}, true],
    // DynamoDB Local keeps tables per access key: a user's own key must win, or tools see other tables.
    ['loopback with AWS_ACCESS_KEY_ID set', 'http://127.0.0.1:8000', { AWS_ACCESS_KEY_ID: 'test' }, false],
    ['loopback with AWS_PROFILE set', 'http://127.0.0.1:8000', { AWS_PROFILE: 'dev' }, false],
    ['a remote endpoint', 'https://dynamodb.eu-west-1.amazonaws.com', {}, false],
    ['no endpoint (AWS)', undefined, {}, false],
    ['not a URL', 'not a url', {}, false],
  ])('%s', (_name, endpoint, env, dummy) => {
    const c = loopbackCredentials(endpoint, env as NodeJS.ProcessEnv);
    expect(c).toEqual(dummy ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined);
  });
});
