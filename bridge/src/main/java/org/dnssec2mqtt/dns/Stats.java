package org.dnssec2mqtt.dns;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the NOTIFY listener, by outcome; cheap enough to bump on every packet. */
final class Stats {
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong formerr = new AtomicLong();
    final AtomicLong notimp = new AtomicLong();
    final AtomicLong notauth = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong sinkErrors = new AtomicLong();
    final AtomicLong connectionsRejected = new AtomicLong();
    final AtomicLong queueDropped = new AtomicLong();

    /** Counts one handler outcome by the rcode word that starts its reason; returns that word. */
    String count(NotifyHandler.Outcome outcome) {
        String reason = outcome.reason();
        int dash = reason.indexOf('-');
        String word = dash < 0 ? reason : reason.substring(0, dash);
        switch (word) {
            case "accepted" -> accepted.incrementAndGet();
            case "refused" -> refused.incrementAndGet();
            case "formerr" -> formerr.incrementAndGet();
            case "notimp" -> notimp.incrementAndGet();
            case "notauth" -> notauth.incrementAndGet();
            default -> {
                dropped.incrementAndGet();
                return "dropped";
            }
        }
        return word;
    }
}
