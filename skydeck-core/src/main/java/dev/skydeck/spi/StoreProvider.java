package dev.skydeck.spi;

import dev.skydeck.SkyDeckConfig;

/**
 * Opens the {@link Store} at a database URL for {@code SkyDeck.open()}: found with
 * {@link java.util.ServiceLoader}. {@code skydeck-sqlite} opens {@code jdbc:sqlite:} files,
 * {@code skydeck-postgres} {@code jdbc:postgresql:} databases.
 */
public interface StoreProvider {
    /** Whether this provider opens stores at {@code url}. */
    boolean accepts(String url);

    /**
     * Opens (creating and migrating if needed) the store at {@code url}; {@code config}'s
     * environment may hold its credentials.
     */
    Store open(String url, SkyDeckConfig config);
}
