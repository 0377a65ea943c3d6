package dev.skydeck.memory;

import dev.skydeck.spi.Store;
import dev.skydeck.testing.StoreContract;

/** {@link InMemoryStore} against the {@link StoreContract}. */
class InMemoryStoreTest extends StoreContract {
    @Override
    protected Store newStore() {
        return new InMemoryStore();
    }
}
