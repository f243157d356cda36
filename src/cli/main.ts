#!/usr/bin/env node
import { runCheck } from './check.js';
import { runCheckConfig } from './check-config.js';
import { runDev } from './dev.js';
import { runExplain } from './explain.js';
import { runRevocations } from './revocations.js';
import { runRevoke } from './revoke.js';
import { runServe } from './serve.js';

const USAGE = `usage: tokengate <command> [options]

commands:
  serve --config FILE            run the ext_authz service
  check-config FILE              validate a config file and report every problem
  explain --config FILE --path P [--method M] [--host H] [--token T | --claims JSON]
          [--header 'k: v'] [--context k=v]
                                 show which policy rule judges a request, and why
  dev [--grpc ADDR] [--http ADDR]
                                 run on the embedded development issuer and print a token
  check --address ADDR [--token T] [--method M] [--path P] [--host H]
                                 send one Check to a running tokengate and print the answer
  revoke --issuer I (--jti J | --subject S | --client C | --digest D | --revoke-token-file F)
         [--before TIME] [--expires TIME] [--reason TEXT] [--unrevoke]
         [--admin ADDR] [--token T | --ca CA --cert CERT --key KEY]
                                 revoke tokens through the admin API
  revocations list|status [--issuer I] [--kind K] [--admin ADDR] [credentials as for revoke]
                                 show the revocation set through the admin API
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  serve: runServe,
  'check-config': runCheckConfig,
  dev: runDev,
  explain: runExplain,
  check: runCheck,
  revoke: runRevoke,
  revocations: runRevocations,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (command === undefined) {
    process.stderr.write(
      name === undefined || name === '--help' ? USAGE : `unknown command "${name}"\n\n${USAGE}`,
    );
    return name === '--help' ? 0 : 2;
  }
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`tokengate: ${error.message}\n`);
    process.exitCode = 1;
  },
);
