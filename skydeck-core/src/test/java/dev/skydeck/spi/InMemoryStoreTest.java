package dev.skydeck.spi;

/** {@link InMemoryStore} against the {@link StoreContract}. */
class InMemoryStoreTest extends StoreContract {
    @Override
    protected Store newStore() {
        return new InMemoryStore();
    }
}
