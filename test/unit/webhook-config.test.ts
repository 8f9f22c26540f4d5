import { loadConfig, webhookSettings } from '../../config';

const secret = `whsec_${Buffer.from('a webhook signing key of 32 bytes').toString('base64')}`;

describe('webhook settings', () => {
  it('sends nothing without WEBHOOK_URL', () => {
    expect(webhookSettings(loadConfig({}))).toBeUndefined();
  });

  it('takes WEBHOOK_URL with a whsec_ secret', () => {
    const config = loadConfig({ WEBHOOK_URL: 'https://backend.example/hooks', WEBHOOK_SECRET: secret });
    expect(webhookSettings(config)).toEqual({ url: 'https://backend.example/hooks', secret });
  });

  it.each([
    [{ WEBHOOK_URL: 'https://backend.example/hooks' }, 'WEBHOOK_SECRET: is required with WEBHOOK_URL'],
    [{ WEBHOOK_URL: 'https://backend.example/hooks', WEBHOOK_SECRET: 'not-a-whsec-value' }, 'WEBHOOK_SECRET: must be'],
    [
      { WEBHOOK_URL: 'https://b.example/h', WEBHOOK_SECRET: `whsec_${Buffer.from('short').toString('base64')}` },
      'WEBHOOK_SECRET: must hold',
    ],
    [{ WEBHOOK_URL: 'ftp://backend.example/hooks', WEBHOOK_SECRET: secret }, 'WEBHOOK_URL: must be an http'],
  ])('refuses %j, naming the variable and never the secret', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (err) {
      expect(String(err)).not.toContain('not-a-whsec-value');
    }
  });
});
