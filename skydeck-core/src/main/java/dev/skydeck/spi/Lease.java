package dev.skydeck.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A time-limited right, held in the store, to do the work only one process may do at a time
 * (reconcile, poll, sync checkpoints) when several processes share one store.
 *
 * @param name      what it guards ({@code engine})
 * @param holder    who holds it: a process's id ({@code host/pid/…})
 * @param token     the fencing token: one higher at every change of holder, so a write made under an
 *                  older token can be refused
 * @param expiresAt when it lapses unless its holder renews it (by the store's clock)
 */
public record Lease(String name, String holder, long token, Instant expiresAt) {
    /** Validates the fields. */
    public Lease {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /** Whether {@code who} holds it. */
    public boolean heldBy(String who) {
        return holder.equals(who);
    }
}
