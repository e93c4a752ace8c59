// `wiretrail firewall`: print, apply or check the egress rules that force traffic through the proxy.
import type { Command } from '../main.js';
import { CliError, UsageError, parse, settings } from '../args.js';
import { FirewallInputError, FirewallRuntimeError, apply, buildSpec, check, parseFormat, render } from '../../firewall/index.js';

const USAGE =
  'wiretrail firewall --proxy ADDR:PORT --format nftables|iptables|k8s [--mode host|gateway] [--allow-dns ADDR] ' +
  '[--proxy-uid UID] [--runner-cidr CIDR]... [--allow ADDR[:PORT[/tcp|udp]]]... [--apply] [--check]\n' +
  '  k8s only: [--pod-label KEY=VALUE] [--namespace NS] [--proxy-pod-label KEY=VALUE [--proxy-namespace NS]] [--allow-dns kube-dns]';

const HELP = `usage: ${USAGE}

Prints egress firewall rules that only let traffic out through the wiretrail proxy.
  --format nftables   an \`nft -f\` script for table inet wiretrail (IPv4 + IPv6), replaced atomically
  --format iptables   a sh script filling chain WIRETRAIL-OUT / WIRETRAIL-FWD with iptables-restore
  --format k8s        a NetworkPolicy for pods labelled --pod-label (default wiretrail.dev/egress=proxy)
  --mode host         rules on the runner itself (default); gateway: forward rules for --runner-cidr
  --allow-dns ADDR    the only DNS resolver allowed (udp+tcp 53); without it, no DNS at all
  --proxy-uid UID     exempt the proxy's own uid when it runs on the runner (host mode)
  --allow ADDR[:PORT[/tcp|udp]]  an extra destination (IP or network), repeatable
  --apply             apply the rules (needs root) instead of printing them
  --check             exit 1 naming what is missing if the live ruleset does not enforce the policy
Exit codes: 0 ok, 1 failure or check failed, 2 usage error.`;

export const command: Command = {
  summary: 'print, apply or check egress firewall rules that force traffic through the proxy',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        proxy: { type: 'string' },
        format: { type: 'string' },
        mode: { type: 'string' },
        'allow-dns': { type: 'string' },
        'proxy-uid': { type: 'string' },
        'runner-cidr': { type: 'string', multiple: true },
        allow: { type: 'string', multiple: true },
        'pod-label': { type: 'string' },
        namespace: { type: 'string' },
        'proxy-pod-label': { type: 'string' },
        'proxy-namespace': { type: 'string' },
        apply: { type: 'boolean' },
        check: { type: 'boolean' },
      },
      USAGE,
    );
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    // The proxy address may come from the listen address in --config / WIRETRAIL_LISTEN (not the default).
    const listen = settings(values).values.get('listen')!;
    const configured = listen.source !== 'default' ? (listen.value as { host: string; port: number }) : null;
    const proxyArg = values.proxy ?? (configured ? `${configured.host.includes(':') ? `[${configured.host}]` : configured.host}:${configured.port}` : undefined);
    let format;
    let spec;
    try {
      format = parseFormat(values.format);
      spec = buildSpec(format, {
        proxy: proxyArg,
        format: values.format,
        mode: values.mode,
        allowDns: values['allow-dns'],
        proxyUid: values['proxy-uid'],
        runnerCidr: values['runner-cidr'],
        allow: values.allow,
        podLabel: values['pod-label'],
        namespace: values.namespace,
        proxyPodLabel: values['proxy-pod-label'],
        proxyNamespace: values['proxy-namespace'],
      });
    } catch (err) {
      if (err instanceof FirewallInputError) throw new UsageError(`${err.message}\nusage: ${USAGE}`);
      throw err;
    }
    if (!values.apply && !values.check) {
      process.stdout.write(render(format, spec));
      return 0;
    }
    if (format === 'k8s') throw new UsageError('--apply and --check need --format nftables or iptables (apply a NetworkPolicy with kubectl apply -f)');
    try {
      if (values.apply) {
        await apply(format, spec);
        process.stdout.write(`applied ${spec.mode}-mode ${format} rules\n`);
      }
      if (values.check) {
        const problems = await check(format, spec);
        if (problems.length > 0) throw new CliError(`the live ruleset does not enforce the policy: ${problems.join('; ')}`);
        process.stdout.write(`ok: the live ${format} ruleset enforces the ${spec.mode}-mode policy\n`);
      }
    } catch (err) {
      if (err instanceof FirewallRuntimeError) throw new CliError(err.message);
      throw err;
    }
    return 0;
  },
};
