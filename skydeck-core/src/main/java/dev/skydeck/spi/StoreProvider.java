package dev.skydeck.spi;

import java.nio.file.Path;

/**
 * Opens the default file-backed {@link Store} for {@code SkyDeck.open()}. Found with
 * {@link java.util.ServiceLoader}; {@code skydeck-sqlite} provides one.
 */
public interface StoreProvider {
    /** Opens (creating and migrating if needed) the store in {@code file}. */
    Store open(Path file);
}
