package org.dnssec2mqtt.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.dnssec2mqtt.config.HostPort;
import org.dnssec2mqtt.config.IpLiteral;
import org.dnssec2mqtt.zone.ZoneSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.CDNSKEYRecord;
import org.xbill.DNS.CDSRecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/**
 * Asks a zone's server for its SOA and DNSKEY RRsets, with the DO bit (RFC 3225) so the RRSIGs
 * come along, over TCP by default, TSIG-signed when a key is given. Every answer is checked:
 * rcode, question, and the TSIG on the answer (dnsjava returns normally when it is bad).
 */
public final class ZoneFetcher {
    private static final Logger log = LoggerFactory.getLogger(ZoneFetcher.class);

    private final Duration timeout;
    private final boolean tcp;
    private final Map<String, SimpleResolver> resolvers = new ConcurrentHashMap<>();
    private volatile java.util.function.IntConsumer onQuery = type -> { };
    private final TcpClient tcpClient = new TcpClient();
    private final org.xbill.DNS.io.IoClientFactory ioClients = tcpClient.factory();
    static final int EDNS_PAYLOAD = 1232;

    /**
     * UDP answers are read on the asking thread ({@link UdpExchange}), TCP answers on the
     * connection's reader thread ({@link #completion}): no thread pool of its own.
     */
    public ZoneFetcher(Duration timeout, boolean tcp) {
        this.timeout = timeout;
        this.tcp = tcp;
    }

    /** The zone's SOA at {@code server}, with the RRSIGs over it. */
    public SoaAnswer soa(Name zone, QueryTarget server) throws DnsQueryException {
        Message answer = query(zone, Type.SOA, server);
        return new SoaAnswer(soa(zone, server, answer), sigs(answer, zone, Type.SOA));
    }

    /** An SOA and the signatures that came with it. */
    public record SoaAnswer(SOARecord soa, List<RRSIGRecord> sigs) {}

    /** SOA, DNSKEY, CDS and CDNSKEY of {@code zone} at {@code server}, with their RRSIGs. */
    public ZoneSnapshot fetch(Name zone, QueryTarget server) throws DnsQueryException {
        return fetch(zone, server, tcp);
    }

    /**
     * The same over UDP (EDNS0, TCP only for a truncated answer) whatever {@code dns.transport}
     * says: for the check right after a server announced a new serial. NSD forks new server
     * processes on every reload, and for a moment its old one still accepts TCP connections and
     * resets them (see {@link TcpClient}); the queries right after its NOTIFY met that every time
     * over TCP (retries, tens of ms) and never over UDP (bench: one change each, p50 61 ms over
     * TCP, 6.9 ms over UDP, one run). The NOTIFY came over UDP from that server: UDP works there.
     */
    public ZoneSnapshot fetchJustChanged(Name zone, QueryTarget server) throws DnsQueryException {
        return fetch(zone, server, false);
    }

    private ZoneSnapshot fetch(Name zone, QueryTarget server, boolean tcp) throws DnsQueryException {
        // All four at once: over UDP four datagrams on one socket, answered before sendUdp returns;
        // over TCP they go out on pooled connections with TCP_NODELAY (see TcpClient: with dnsjava's
        // own TCP client they stalled 40 ms each, so they used to be asked one after the other).
        // bridge/docs/performance.md.
        int[] types = {Type.SOA, Type.DNSKEY, Type.CDS, Type.CDNSKEY};
        List<Pending> sent = new ArrayList<>();
        if (tcp) {
            for (int type : types) {
                sent.add(send(zone, type, server, false, true));
            }
        } else {
            sent.addAll(sendUdp(zone, types, server, false));
        }
        Pending soaQuery = sent.get(0);
        Pending keyQuery = sent.get(1);
        Pending cdsQuery = sent.get(2);
        Pending cdnskeyQuery = sent.get(3);
        Message soaAnswer = receive(soaQuery);
        SOARecord soa = soa(zone, server, soaAnswer);
        Message keyAnswer = receive(keyQuery);
        List<DNSKEYRecord> keys = new ArrayList<>();
        for (Record r : keyAnswer.getSection(Section.ANSWER)) {
            if (r instanceof DNSKEYRecord k && r.getName().equals(zone)) {
                keys.add(k);
            }
        }
        // RFC 7344 §4: the child publishes these at the apex; absent is the normal case. A server
        // that cannot answer them (old software) must not fail the whole check.
        List<CDSRecord> cds = new ArrayList<>();
        List<CDNSKEYRecord> cdnskey = new ArrayList<>();
        try {
            for (Record r : receive(cdsQuery).getSection(Section.ANSWER)) {
                if (r instanceof CDSRecord c && r.getName().equals(zone)) {
                    cds.add(c);
                }
            }
            for (Record r : receive(cdnskeyQuery).getSection(Section.ANSWER)) {
                if (r instanceof CDNSKEYRecord c && r.getName().equals(zone)) {
                    cdnskey.add(c);
                }
            }
        } catch (DnsQueryException e) {
            log.debug("zone={} server={} no CDS/CDNSKEY: {}", zone, server, e.reason());
        }
        return new ZoneSnapshot(zone, server.toString(), soa, keys,
                sigs(keyAnswer, zone, Type.DNSKEY), sigs(soaAnswer, zone, Type.SOA), cds, cdnskey);
    }

    /**
     * The zone's DS RRset as the parent side serves it, asked of {@code resolver} with RD set
     * (a validating resolver, or simply the parent's authoritative server).
     *
     * @return the DS records (empty: no DS) and whether the answer carried the AD bit
     */
    public DsAnswer ds(Name zone, QueryTarget resolver) throws DnsQueryException {
        Message answer = query(zone, Type.DS, resolver, true);
        List<DSRecord> out = new ArrayList<>();
        for (Record r : answer.getSection(Section.ANSWER)) {
            if (r instanceof DSRecord ds && r.getName().equals(zone)) {
                out.add(ds);
            }
        }
        return new DsAnswer(out, answer.getHeader().getFlag(Flags.AD));
    }

    /**
     * The addresses of the zone's name servers: the NS RRset as {@code server} serves it, each
     * name's A and AAAA asked of {@code server} too (in-zone glue) and, for names it does not
     * answer, of {@code resolver} when there is one.
     */
    public List<String> nameServerAddresses(Name zone, QueryTarget server, QueryTarget resolver) throws DnsQueryException {
        List<String> out = new ArrayList<>();
        for (Record r : query(zone, Type.NS, server).getSection(Section.ANSWER)) {
            if (!(r instanceof org.xbill.DNS.NSRecord ns) || !r.getName().equals(zone)) {
                continue;
            }
            List<String> found = addresses(ns.getTarget(), server, false);
            if (found.isEmpty() && resolver != null) {
                found = addresses(ns.getTarget(), resolver, true);
            }
            if (found.isEmpty()) {
                log.debug("zone={} name server {} has no address we can find", zone, ns.getTarget());
            }
            for (String a : found) {
                if (!out.contains(a)) {
                    out.add(a);
                }
            }
        }
        return out;
    }

    private List<String> addresses(Name host, QueryTarget server, boolean recursive) {
        List<String> out = new ArrayList<>();
        for (int type : new int[] {Type.A, Type.AAAA}) {
            try {
                for (Record r : query(host, type, server, recursive).getSection(Section.ANSWER)) {
                    if (r instanceof org.xbill.DNS.ARecord a && r.getName().equals(host)) {
                        out.add(a.getAddress().getHostAddress());
                    } else if (r instanceof org.xbill.DNS.AAAARecord a && r.getName().equals(host)) {
                        out.add(a.getAddress().getHostAddress());
                    }
                }
            } catch (DnsQueryException e) {
                // not this server's name, or no such record: try the next source
            }
        }
        return out;
    }

    /** A DS RRset and whether a validating resolver vouched for it (AD bit, RFC 4035 §3.2.3). */
    public record DsAnswer(List<DSRecord> records, boolean validated) {}

    private static SOARecord soa(Name zone, QueryTarget server, Message answer) throws DnsQueryException {
        for (Record r : answer.getSection(Section.ANSWER)) {
            if (r instanceof SOARecord soa && r.getName().equals(zone)) {
                return soa;
            }
        }
        throw new DnsQueryException(zone, server.toString(),
                "no SOA for the zone in the answer; is the server authoritative for it?");
    }

    private static List<RRSIGRecord> sigs(Message answer, Name zone, int covered) {
        List<RRSIGRecord> out = new ArrayList<>();
        for (Record r : answer.getSection(Section.ANSWER)) {
            if (r instanceof RRSIGRecord s && s.getTypeCovered() == covered && r.getName().equals(zone)) {
                out.add(s);
            }
        }
        return out;
    }

    /** One query with one retry: a pooled TCP connection the server closed fails the first try. */
    Message query(Name zone, int type, QueryTarget server) throws DnsQueryException {
        return query(zone, type, server, false);
    }

    private Message query(Name zone, int type, QueryTarget server, boolean recursive) throws DnsQueryException {
        return receive(send(zone, type, server, recursive, tcp));
    }

    /** A query on its way. */
    private record Pending(Name zone, int type, QueryTarget server, boolean recursive, boolean tcp,
                           CompletableFuture<Message> answer) {}

    /** Told the type of every query sent, retries included (metrics). */
    public void countQueries(java.util.function.IntConsumer counter) {
        this.onQuery = counter;
    }

    private Pending send(Name zone, int type, QueryTarget server, boolean recursive, boolean tcp) {
        if (!tcp) {
            return sendUdp(zone, new int[] {type}, server, recursive).get(0);
        }
        onQuery.accept(type);
        Message query = newQuery(zone, type, recursive);
        CompletableFuture<Message> answer;
        try {
            answer = resolver(server).sendAsync(query, completion()).toCompletableFuture();
        } catch (java.net.UnknownHostException | RuntimeException e) {
            // an unresolvable host name, or dnsjava refusing work while the JVM shuts down
            answer = CompletableFuture.failedFuture(e);
        }
        return new Pending(zone, type, server, recursive, true, answer);
    }

    /**
     * Asks {@code types} of {@code name} over UDP, all on one socket, and waits for the answers on
     * this thread ({@link UdpExchange}); a truncated answer is asked again over TCP (RFC 7766 §5)
     * and is on its way when this returns.
     */
    private List<Pending> sendUdp(Name name, int[] types, QueryTarget server, boolean recursive) {
        List<Message> queries = new ArrayList<>();
        for (int type : types) {
            onQuery.accept(type);
            queries.add(newQuery(name, type, recursive));
        }
        List<CompletableFuture<Message>> answers = new ArrayList<>();
        try {
            InetSocketAddress address = server.address().resolve(); // again each time: a name may move
            for (UdpExchange.Outcome o : UdpExchange.exchange(address, queries, server.key(), timeout)) {
                answers.add(o.failure() != null ? CompletableFuture.failedFuture(o.failure())
                        : o.answer().getHeader().getFlag(Flags.TC) ? overTcp(address, o, server.key())
                        : CompletableFuture.completedFuture(o.answer()));
            }
        } catch (java.net.UnknownHostException e) {
            queries.forEach(q -> answers.add(CompletableFuture.failedFuture(e)));
        }
        List<Pending> out = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            out.add(new Pending(name, types[i], server, recursive, false, answers.get(i)));
        }
        return out;
    }

    /** A query whose UDP answer was truncated, asked again over TCP as it was sent (same ID and TSIG). */
    private CompletableFuture<Message> overTcp(InetSocketAddress address, UdpExchange.Outcome truncated, TSIG key) {
        log.debug("server={} truncated answer to {} {}, asking over TCP", address,
                truncated.query().getQuestion().getName(), Type.string(truncated.query().getQuestion().getType()));
        return tcpClient.sendAndReceiveTcp(null, address, truncated.query(), truncated.wire(), timeout)
                .thenApply(wire -> {
                    try {
                        Message answer = new Message(wire);
                        UdpExchange.verify(answer, wire, truncated.signature(), key);
                        return answer;
                    } catch (IOException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
    }

    /**
     * A query as we ask it. RFC 3225: the DO bit asks for the RRSIGs. 1232 bytes (DNS Flag Day
     * 2020, RFC 9715): larger UDP answers risk IP fragmentation; the server truncates and we ask
     * over TCP. RD cleared unless {@code recursive}: we ask authoritative servers.
     */
    private static Message newQuery(Name name, int type, boolean recursive) {
        Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        if (!recursive) {
            query.getHeader().unsetFlag(Flags.RD);
        }
        query.addRecord(new OPTRecord(EDNS_PAYLOAD, 0, 0, ExtendedFlags.DO), Section.ADDITIONAL);
        return query;
    }

    /**
     * Where dnsjava parses a TCP answer and completes the query's future: on the thread that read
     * it ({@link TcpClient}'s reader; parsing and the TSIG check take microseconds and nothing
     * there blocks, as a truncated answer cannot come over TCP), so the waiting check is woken
     * directly. Handing each of a check's four answers to another thread first cost a thread
     * wake-up per answer on the NOTIFY → first key path (measured per stage, issue 11).
     */
    private static java.util.concurrent.Executor completion() {
        return Runnable::run;
    }

    /**
     * Pauses before each retry of a quick I/O failure (not a timeout), in milliseconds: a server
     * that reloads resets connections. NSD's old server process goes on accepting on the shared
     * listening socket for a moment and resets what it accepted, so a retry at once can meet it
     * again; measured against NSD 4.6 (ZoneFetcherNsdReloadIT): retries at once failed 8 checks
     * in 15 reloads.
     */
    static final long[] IO_RETRY_PAUSES_MS = {0, 10, 40, 150, 400};

    /**
     * Waits for a sent query; retries quick I/O failures at once: a server that closed or reset
     * the pooled TCP connection (NSD does on every reload) fails the queries in flight on it, and
     * the next try opens a new one ({@link TcpClient} forgets a failed connection at once).
     */
    private Message receive(Pending p) throws DnsQueryException {
        for (int retry = 0; ; retry++) {
            try {
                return check(p, await(p));
            } catch (DnsQueryException e) {
                if (!(e.getCause() instanceof IOException) || retry >= IO_RETRY_PAUSES_MS.length) {
                    throw e;
                }
                long pause = IO_RETRY_PAUSES_MS[retry];
                log.debug("zone={} server={} type={} retrying in {} ms after: {}", p.zone(), p.server(),
                        Type.string(p.type()), pause, e.reason());
                if (pause > 0) {
                    try {
                        Thread.sleep(pause);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        throw e;
                    }
                }
                p = send(p.zone(), p.type(), p.server(), p.recursive(), p.tcp());
            }
        }
    }

    private Message await(Pending p) throws DnsQueryException {
        String where = p.server().toString();
        try {
            return p.answer().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new DnsQueryException(p.zone(), where, noAnswer());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DnsQueryException(p.zone(), where, "interrupted");
        } catch (ExecutionException e) {
            Throwable c = Failures.root(e);
            throw new DnsQueryException(p.zone(), where, Failures.describe(c, noAnswer()),
                    Failures.retryable(c) ? c : new QueryFailure(c));
        }
    }

    /** TSIG, rcode and question of an answer; RFC 8945 §5.3 and RFC 5452 §9.1 say drop what fails. */
    private static Message check(Pending p, Message answer) throws DnsQueryException {
        String where = p.server().toString();
        Name zone = p.zone();
        int type = p.type();
        if (p.server().key() != null && (answer.getTSIG() == null || !answer.isVerified())) {
            // dnsjava hands back answers whose TSIG failed. RFC 8945 §5.3.2: a server that rejects
            // our key says so in the TSIG error field (BADKEY, BADSIG, BADTIME).
            org.xbill.DNS.TSIGRecord t = answer.getTSIG();
            if (t != null && t.getError() != Rcode.NOERROR) {
                throw new DnsQueryException(zone, where, "the server rejected TSIG key " + p.server().keyName()
                        + " (" + Rcode.TSIGstring(t.getError()) + "); check that it has the key, with the same"
                        + " name, algorithm and secret, and allows queries signed with it");
            }
            throw new DnsQueryException(zone, where, answer.getTSIG() == null
                    ? "the answer carries no TSIG although the query was signed with " + p.server().keyName()
                    : "the answer's TSIG (key " + p.server().keyName() + ") does not verify; check that both sides"
                            + " use the same secret");
        }
        if (answer.getRcode() != Rcode.NOERROR && !(p.recursive() && answer.getRcode() == Rcode.NXDOMAIN)) {
            throw new DnsQueryException(zone, where, "the server answered " + Rcode.string(answer.getRcode())
                    + " to the " + Type.string(type) + " query" + Failures.rcodeHint(answer.getRcode()));
        }
        Record q = answer.getQuestion();
        if (q == null || !q.getName().equals(zone) || q.getType() != type || q.getDClass() != DClass.IN) {
            throw new DnsQueryException(zone, where, "the answer's question does not match the query (expected "
                    + zone + " " + Type.string(type) + "; got " + (q == null ? "none" : q.getName() + " " + Type.string(q.getType())) + ")");
        }
        return answer;
    }

    private String noAnswer() {
        return "no answer within " + Failures.duration(timeout);
    }

    /** A failure that is not retried: the reason says all; the cause stays for DEBUG. */
    private static final class QueryFailure extends Exception {
        private static final long serialVersionUID = 1L;

        QueryFailure(Throwable cause) {
            super(cause);
        }
    }

    /**
     * The resolver for {@code server}. Addresses are kept; a host name is looked up again for every
     * query (so a changed address is followed), and one that does not resolve fails the query
     * with "cannot resolve host name", never with an unresolved socket address.
     */
    private SimpleResolver resolver(QueryTarget server) throws java.net.UnknownHostException {
        String id = server.address() + "/" + server.keyName();
        SimpleResolver cached = resolvers.get(id); // only literals are kept: no parsing per query
        if (cached != null) {
            return cached;
        }
        HostPort a = server.address();
        if (IpLiteral.parseOrNull(a.host()) == null) {
            return newResolver(a.resolve(), server.key());
        }
        cached = newResolver(a.resolve(), server.key());
        resolvers.put(id, cached);
        return cached;
    }

    /** dnsjava's resolver over our TCP client; the query carries its EDNS ({@link #newQuery}). */
    private SimpleResolver newResolver(InetSocketAddress address, TSIG key) {
        SimpleResolver r = new SimpleResolver(address);
        r.setTCP(true);
        r.setTimeout(timeout);
        r.setIoClientFactory(ioClients);
        if (key != null) {
            r.setTSIGKey(key);
        }
        return r;
    }
}
