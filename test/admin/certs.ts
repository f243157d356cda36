import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/temp.js';

/** PEM file paths of a throw-away PKI made with openssl at test time. */
export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client pair signed by another CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
  remove(): void;
}

export function makePki(openssl = 'openssl'): TestPki {
  const dir = tempDir('tokengate-pki-');
  const at = (name: string) => join(dir.path, name);
  const run = (...args: string[]) => execFileSync(openssl, args, { stdio: 'pipe' });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  const ca = (name: string) =>
    run(
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.crt`),
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    );
  const leaf = (name: string, caName: string, ext: string) => {
    writeFileSync(at(`${name}.ext`), ext);
    run(
      'req',
      ...ecKey,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.csr`),
      '-subj',
      `/CN=${name}`,
    );
    run(
      'x509',
      '-req',
      '-in',
      at(`${name}.csr`),
      '-CA',
      at(`${caName}.crt`),
      '-CAkey',
      at(`${caName}.key`),
      '-CAcreateserial',
      '-out',
      at(`${name}.crt`),
      '-days',
      '1',
      '-extfile',
      at(`${name}.ext`),
    );
  };

  ca('test-ca');
  ca('other-ca');
  leaf(
    'localhost',
    'test-ca',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  leaf('ops-alice', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');

  return {
    dir: dir.path,
    ca: at('test-ca.crt'),
    serverCert: at('localhost.crt'),
    serverKey: at('localhost.key'),
    clientCert: at('ops-alice.crt'),
    clientKey: at('ops-alice.key'),
    strangerCert: at('stranger.crt'),
    strangerKey: at('stranger.key'),
    remove: dir.remove,
  };
}
