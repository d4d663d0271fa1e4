/**
 * The first process inside the sandbox's network namespace, where only loopback exists. It listens on
 * 127.0.0.1 (a free port), relays each TCP connection to the egress proxy's unix socket (bound in from
 * outside), and starts the real child with HTTP(S)_PROXY pointing at itself (NO_PROXY: itself only, see
 * proxyEnv). It ignores the signals the runner sends to the whole process group (the child gets them
 * too and decides), and exits with the child's status. Node resets inherited signal dispositions at
 * start-up, so the child starts with default handlers even though bwrap outside ignores them.
 *
 * Shipped as text and written into the run's support folder: the CLI is one bundle, and the script must
 * be a file the sandboxed node can read.
 *
 * It must never touch process.stdout or process.stderr while the child runs: they are the child's own
 * stdout and stderr (inherited), and node's lazy getters make a pipe or socket non-blocking (FIONBIO),
 * after which the child's writes fail with EAGAIN (curl: "(23) Failure writing output"). Readable#pipe
 * reads both getters (to decide whether to end the destination), so the relay below is written by hand.
 */
export const FORWARDER_SOURCE = String.raw`import { createServer, connect } from 'node:net';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
const [sock, sep, ...argv] = process.argv.slice(2);
if (!sock || sep !== '--' || !argv.length) { process.stderr.write('outloop forwarder: usage: SOCKET -- CMD...\n'); process.exit(70); }
const relay = (from, to) => {
  from.on('data', (d) => { if (!to.write(d)) from.pause(); });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
};
// noDelay: with Nagle a small write waited for the child's delayed ACK of the one before (40 ms on
// Linux): the first reply of each placeholder connection, right after the proxy's TLS session ticket.
const server = createServer({ noDelay: true }, (c) => {
  const u = connect(sock);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  relay(c, u);
  relay(u, c);
});
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(s, () => {});
server.listen(0, '127.0.0.1', () => {
  const url = 'http://127.0.0.1:' + server.address().port;
  const env = { ...process.env };
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) env[k] = url;
  env.NO_PROXY = env.no_proxy = '127.0.0.1:' + server.address().port;
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env });
  child.on('error', (e) => {
    process.stderr.write('outloop: cannot start ' + argv[0] + ' in the sandbox: ' + (e.code || e.message) + '\n');
    process.exit(e.code === 'ENOENT' ? 127 : 126);
  });
  child.on('exit', (code, sig) => process.exit(sig ? 128 + (constants.signals[sig] || 0) : code ?? 70));
});
`;

/**
 * The same forwarder in Perl, used when the system has a root-owned perl (Debian and Ubuntu always do:
 * perl-base is essential). A second node costs 45-80 ms on every exec with hosts; perl with only the
 * Socket module starts in a few. Same contract: SOCKET -- CMD..., the proxy variables set for the child,
 * group signals ignored here and restored to default for the child, the child's status as exit code
 * (128+N for a signal). One process accepts (forking one relay per connection) while the first waits
 * for the child; when the child is gone the sandbox's pid namespace ends whatever is left. It never
 * touches its stdio, so the child's inherited pipes stay blocking.
 */
export const FORWARDER_PERL_SOURCE = String.raw`use strict;
use Socket qw(:DEFAULT IPPROTO_TCP TCP_NODELAY);
my ($sock, $sep, @argv) = @ARGV;
if (!defined $sock || !defined $sep || $sep ne '--' || !@argv) { print STDERR "outloop forwarder: usage: SOCKET -- CMD...\n"; exit 70; }
socket(my $srv, PF_INET, SOCK_STREAM, 0) or exit 70;
bind($srv, pack_sockaddr_in(0, inet_aton('127.0.0.1'))) or exit 70;
listen($srv, 128) or exit 70;
my ($port) = unpack_sockaddr_in(getsockname($srv));
my $url = "http://127.0.0.1:$port";
$ENV{$_} = $url for qw(HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy);
$ENV{NO_PROXY} = $ENV{no_proxy} = "127.0.0.1:$port";
$SIG{$_} = 'IGNORE' for qw(INT TERM HUP QUIT);
my $child = fork();
exit 70 unless defined $child;
if ($child == 0) {
  close $srv;
  $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP QUIT PIPE);
  exec { $argv[0] } @argv;
  my $code = $!{ENOENT} ? 127 : 126;
  print STDERR "outloop: cannot start $argv[0] in the sandbox: $!\n";
  exit $code;
}
my $acceptor = fork();
exit 70 unless defined $acceptor;
if ($acceptor == 0) {
  $SIG{CHLD} = 'IGNORE';
  $SIG{PIPE} = 'IGNORE';
  open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
  while (1) {
    accept(my $c, $srv) or next;
    # Every piece goes out as it comes (see noDelay in the node version).
    setsockopt($c, IPPROTO_TCP, TCP_NODELAY, 1);
    my $pid = fork();
    if (defined $pid && $pid == 0) {
      close $srv;
      socket(my $u, PF_UNIX, SOCK_STREAM, 0) or exit 1;
      connect($u, pack_sockaddr_un($sock)) or exit 1;
      relay($c, $u);
      exit 0;
    }
    close $c;
  }
}
close $srv;
my $waited;
do { $waited = waitpid($child, 0) } while ($waited == -1 && $!{EINTR});
my $status = $?;
kill 'KILL', $acceptor;
exit(($status & 127) ? 128 + ($status & 127) : ($status >> 8));

sub relay {
  my ($a, $b) = @_;
  my %peer = (fileno($a) => [$a, $b], fileno($b) => [$b, $a]);
  my %open = (fileno($a) => 1, fileno($b) => 1);
  while (%open) {
    my $rin = '';
    vec($rin, $_, 1) = 1 for keys %open;
    my $n = select(my $rout = $rin, undef, undef, undef);
    next if $n < 0 && $!{EINTR};
    last if $n < 0;
    for my $fd (keys %open) {
      next unless vec($rout, $fd, 1);
      my ($from, $to) = @{$peer{$fd}};
      my $r = sysread($from, my $buf, 65536);
      next if !defined $r && $!{EINTR};
      if (!$r) { delete $open{$fd}; shutdown($to, 1); next; }
      my $off = 0;
      while ($off < $r) {
        my $w = syswrite($to, $buf, $r - $off, $off);
        if (!defined $w) { next if $!{EINTR}; return; }
        $off += $w;
      }
    }
  }
}
`;

export interface Forwarder {
  file: string;
  source: string;
  /** The interpreter and script as started inside the sandbox (the script sits at `mount/file`). */
  argv(mount: string): string[];
}

/** perl when the system has one only root can change (found like recipe commands), else outloop's node. */
export function pickForwarder(perl: string | undefined, node: string): Forwarder {
  return perl
    ? { file: 'forwarder.pl', source: FORWARDER_PERL_SOURCE, argv: (m) => [perl, `${m}/forwarder.pl`] }
    : { file: 'forwarder.mjs', source: FORWARDER_SOURCE, argv: (m) => [node, `${m}/forwarder.mjs`] };
}

/**
 * The proxy variables, for a child that reaches the proxy directly (no sandbox, or macOS). NO_PROXY names
 * the proxy alone, with its port, as the forwarders do: every other host (localhost too) goes through
 * it, and a request to the proxy itself (a CONNECT written by hand) goes straight to it. Without that,
 * node 22.21+ and 24.5+ with NODE_USE_ENV_PROXY=1 (in a program's own environment) send such a CONNECT
 * to the proxy as a proxied request, which it refuses. Clients whose NO_PROXY takes no port (curl) match
 * nothing.
 */
export function proxyEnv(url: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) env[k] = url;
  env.NO_PROXY = env.no_proxy = new URL(url).host;
  return env;
}
