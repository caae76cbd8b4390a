package org.dnssec2mqtt;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.dnssec2mqtt.flow.Scheduler;
import org.dnssec2mqtt.mqtt.Payloads;
import org.dnssec2mqtt.mqtt.Topics;
import org.dnssec2mqtt.zone.Zones;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

/**
 * Requests on {@code <prefix>/_bridge/request/<command>}, answered on
 * {@code <prefix>/_bridge/response/<command>} after the work ends. A bad request gets an error
 * response naming the problem, and nothing else happens.
 */
final class Commands {
    private static final Logger log = LoggerFactory.getLogger(Commands.class);
    static final int MAX_PAYLOAD = 64 * 1024;

    private final Bridge bridge;
    private final BiConsumer<String, Map<String, Object>> respond;

    /**
     * @param respond publishes a response: command name, response object
     */
    Commands(Bridge bridge, BiConsumer<String, Map<String, Object>> respond) {
        this.bridge = bridge;
        this.respond = respond;
    }

    /** What a recheck or forget request asks for. {@code zone} is null for {@code *}. */
    record Recheck(Name zone, String transaction) {}

    /** A request that cannot be served, with the transaction when it could be read. */
    static final class BadRequest extends Exception {
        final String transaction;

        BadRequest(String message, String transaction) {
            super(message);
            this.transaction = transaction;
        }
    }

    void handle(String command, byte[] payload) {
        if (!Topics.COMMANDS.contains(command)) {
            respond.accept(command, Payloads.error("unknown command '" + abbreviate(command) + "'; known: "
                    + String.join(", ", Topics.COMMANDS), null));
            return;
        }
        Recheck r;
        try {
            r = parseRecheck(payload);
        } catch (BadRequest e) {
            log.info("command: {} refused: {}", command, e.getMessage());
            respond.accept(command, Payloads.error(e.getMessage(), e.transaction));
            return;
        }
        if (command.equals(Topics.FORGET)) {
            forget(r);
        } else if (r.zone() == null) {
            recheckAll(r);
        } else {
            recheck(r);
        }
    }

    private void forget(Recheck r) {
        if (r.zone() == null) {
            respond.accept(Topics.FORGET, Payloads.error("forget takes one zone name, not '*'", r.transaction()));
            return;
        }
        String problem = bridge.forget(r.zone());
        if (problem != null) {
            respond.accept(Topics.FORGET, Payloads.error(problem, r.transaction()));
        } else {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("zone", Zones.display(r.zone()));
            respond.accept(Topics.FORGET, Payloads.ok(data, r.transaction()));
        }
    }

    private void recheckAll(Recheck r) {
        List<CompletableFuture<Scheduler.Result>> all = bridge.recheckAll();
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
            int changed = 0;
            int failed = 0;
            for (CompletableFuture<Scheduler.Result> f : all) {
                Scheduler.Result res = f.getNow(null);
                if (res == null || !res.ok()) {
                    failed++;
                } else if (res.changed()) {
                    changed++;
                }
            }
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("zones", all.size());
            data.put("changed", changed);
            data.put("failed", failed);
            respond.accept(Topics.RECHECK, Payloads.ok(data, r.transaction()));
        });
    }

    private void recheck(Recheck r) {
        bridge.recheck(r.zone()).whenComplete((res, t) -> {
            if (t != null) {
                log.warn("command: recheck of {} failed: {}", Zones.display(r.zone()), t.getMessage());
                respond.accept(Topics.RECHECK, Payloads.error("recheck of " + Zones.display(r.zone())
                        + " failed inside the bridge; see its log", r.transaction()));
            } else if (!res.ok()) {
                Map<String, Object> m = Payloads.error(res.error(), r.transaction());
                if (res.state() != null) {
                    m.put("data", Payloads.zoneState(res.state()));
                }
                respond.accept(Topics.RECHECK, m);
            } else {
                respond.accept(Topics.RECHECK, Payloads.ok(Payloads.zoneState(res.state()), r.transaction()));
            }
        });
    }

    /**
     * Reads {@code example.com}, {@code *} or {@code {"zone":"example.com","transaction":"t1"}}.
     */
    static Recheck parseRecheck(byte[] payload) throws BadRequest {
        if (payload.length == 0) {
            throw new BadRequest("empty request: send a zone name, '*', or {\"zone\":\"example.com\"}", null);
        }
        if (payload.length > MAX_PAYLOAD) {
            throw new BadRequest("request of " + payload.length + " bytes is over the " + MAX_PAYLOAD + " byte limit", null);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload)).toString().trim();
        } catch (CharacterCodingException e) {
            throw new BadRequest("request is not UTF-8 text", null);
        }
        String zone = text;
        String transaction = null;
        if (text.startsWith("{") || text.startsWith("[") || text.startsWith("\"")) {
            JsonElement e;
            try {
                e = JsonParser.parseString(text);
            } catch (JsonParseException ex) {
                throw new BadRequest("request is not valid JSON: send a zone name, '*', or {\"zone\":\"example.com\"}", null);
            }
            if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
                zone = e.getAsString().trim(); // "example.com" as a JSON string
            } else if (!e.isJsonObject()) {
                throw new BadRequest("request is JSON but not an object: send {\"zone\":\"example.com\"}", null);
            } else {
                JsonObject o = e.getAsJsonObject();
                JsonElement t = o.get("transaction");
                if (t != null && t.isJsonPrimitive()) {
                    transaction = t.getAsString();
                }
                JsonElement z = o.get("zone");
                if (z == null || !z.isJsonPrimitive() || !z.getAsJsonPrimitive().isString()) {
                    throw new BadRequest("request has no \"zone\" string: send {\"zone\":\"example.com\"}", transaction);
                }
                zone = z.getAsString().trim();
            }
        }
        if (zone.equals("*")) {
            return new Recheck(null, transaction);
        }
        try {
            return new Recheck(Zones.parse(zone), transaction);
        } catch (TextParseException e) {
            throw new BadRequest("'" + abbreviate(zone) + "' is not a zone name: " + e.getMessage(), transaction);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
