import { describe, expect, test } from 'bun:test';
import {
  createOriginPolicy,
  defaultOrigins,
  type OriginOptions,
} from '../../src/realtime/origin.ts';

const defaults: OriginOptions = {
  allowedOrigins: [],
  host: '127.0.0.1',
  port: 7400,
  publicOrigins: [],
};
const listed: OriginOptions = {
  ...defaults,
  allowedOrigins: ['https://app.example.com'],
  publicOrigins: ['https://chat.example.com'],
};

describe('the origin policy (docs/design.md#origin-rule, docs/faults.md#o1 (O1–O4))', () => {
  test.each([
    // O4: a client that is not a browser sends no Origin.
    ['O4 no Origin header', undefined, defaults, true],
    ['O4 no Origin header with an allowlist', null, listed, true],
    // The daemon's own names on its own port, both schemes.
    ['own name http://127.0.0.1', 'http://127.0.0.1:7400', defaults, true],
    ['own name http://localhost', 'http://localhost:7400', defaults, true],
    ['own name https://localhost', 'https://localhost:7400', defaults, true],
    ['own name http://[::1]', 'http://[::1]:7400', defaults, true],
    [
      'a public origin',
      'https://chat.example.com',
      { ...defaults, publicOrigins: ['https://chat.example.com'] },
      true,
    ],
    // O1: not on the list.
    ['O1 another site', 'https://evil.test', defaults, false],
    ['O1 another site with an allowlist', 'https://evil.test', listed, false],
    ['O1 listed origin', 'https://app.example.com', listed, true],
    ['O1 public origin alongside an allowlist', 'https://chat.example.com', listed, true],
    ['O1 loopback is not implied by an allowlist', 'http://localhost:7400', listed, false],
    // O2: near misses.
    ['O2 Origin: null', 'null', defaults, false],
    ['O2 empty Origin', '', defaults, false],
    ['O2 other scheme', 'http://app.example.com', listed, false],
    ['O2 other port', 'http://localhost:7401', defaults, false],
    ['O2 no port', 'http://localhost', defaults, false],
    ['O2 suffix attack', 'https://app.example.com.evil.test', listed, false],
    ['O2 prefix attack', 'https://evilapp.example.com', listed, false],
    ['O2 loopback prefix (devframe #319)', 'http://127.attacker.example:7400', defaults, false],
    ['O2 upper-case host', 'https://APP.example.com', listed, false],
    ['O2 trailing slash', 'https://app.example.com/', listed, false],
    ['O2 path', 'https://app.example.com/x', listed, false],
    // O3: DNS rebinding; the Host header is never an input.
    ['O3 rebinding name on our port', 'http://evil.test:7400', defaults, false],
  ])('%s → %p', (_name, origin, options, allowed) => {
    expect(createOriginPolicy(options)(origin)).toBe(allowed);
  });

  test('a configured host joins the default names, IPv6 in brackets', () => {
    expect(
      createOriginPolicy({ ...defaults, host: 'lifeline.internal' })(
        'http://lifeline.internal:7400',
      ),
    ).toBe(true);
    expect(createOriginPolicy({ ...defaults, host: 'fd00::1' })('http://[fd00::1]:7400')).toBe(
      true,
    );
  });

  test('the default port of a scheme may be left out, as browsers do', () => {
    const policy = createOriginPolicy({ ...defaults, port: 443 });
    expect(policy('https://localhost')).toBe(true);
    expect(policy('https://localhost:443')).toBe(true);
    expect(policy('http://localhost')).toBe(false);
  });

  test('configured entries are normalised, incoming ones are not', () => {
    const policy = createOriginPolicy({
      ...defaults,
      allowedOrigins: ['HTTPS://App.Example.com/'],
    });
    expect(policy('https://app.example.com')).toBe(true);
    expect(policy('HTTPS://App.Example.com/')).toBe(false);
  });

  test('defaultOrigins lists every own name with both schemes', () => {
    expect(defaultOrigins('127.0.0.1', 7400).sort()).toEqual(
      [
        'http://127.0.0.1:7400',
        'https://127.0.0.1:7400',
        'http://localhost:7400',
        'https://localhost:7400',
        'http://[::1]:7400',
        'https://[::1]:7400',
      ].sort(),
    );
  });
});
