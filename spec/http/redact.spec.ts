import { REDACTED, redact, registerSecret } from '../../src/http/redact';

describe('redact', () => {
  // Quote, backslash and slash: each is escaped in JSON or encoded in a URL, so the plain
  // key no longer appears in an echo of it. Not `sk-…`-shaped: only registration hides it.
  const KEY = 'Zq"\\/-REDACT-SPEC-123';
  registerSecret(KEY);

  it.each([
    ['verbatim', KEY],
    ['URL-encoded', encodeURIComponent(KEY)],
    ['JSON-escaped', JSON.stringify(KEY).slice(1, -1)],
    ['JSON-escaped then URL-encoded', encodeURIComponent(JSON.stringify(KEY).slice(1, -1))],
  ])('should remove a registered key echoed %s, leaving no part of it', (_how, echoed) => {
    const out = redact(`upstream said: key=${echoed}; bye`);
    expect(out).toBe(`upstream said: key=${REDACTED}; bye`);
    expect(out).not.toContain('REDACT-SPEC');
  });

  it('should remove the key inside a JSON body echoed by a server', () => {
    const out = redact(JSON.stringify({ error: `bad key ${KEY}`, url: `/x?key=${encodeURIComponent(KEY)}` }));
    expect(out).not.toContain('REDACT-SPEC');
    expect(out).toContain(REDACTED);
  });
});

describe('redact (URL user info)', () => {
  it('should remove the user info of a URL, short passwords included, and leave other text alone', () => {
    expect(redact('GET http://svc:pw@127.0.0.1:1/x: connection refused (ECONNREFUSED)')).toBe(
      `GET http://${REDACTED}@127.0.0.1:1/x: connection refused (ECONNREFUSED)`,
    );
    expect(redact('request to https://ops:s3cret%40pw@api.example/portfolios failed')).toBe(`request to https://${REDACTED}@api.example/portfolios failed`);
    expect(redact('mail ops@example.com about http://127.0.0.1:8080/x')).toBe('mail ops@example.com about http://127.0.0.1:8080/x');
  });
});
