package dev.skydeck.testing;

import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** A store that counts its write transactions. */
public final class CountingStore extends StoreDelegate {
    /** Write transactions so far. */
    public final AtomicInteger writes = new AtomicInteger();

    /** Counts the writes of {@code inner}. */
    public CountingStore(Store inner) {
        super(inner);
    }

    @Override
    public <T> T write(Function<StoreTx, T> work) {
        writes.incrementAndGet();
        return super.write(work);
    }
}
