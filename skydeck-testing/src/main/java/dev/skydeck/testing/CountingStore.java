package dev.skydeck.testing;

import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** A store that counts its write transactions. */
public final class CountingStore extends StoreDelegate {
    private static final Set<String> LEASE_CALLS = Set.of("acquireLease", "holdsLease", "releaseLease", "lease");

    /** Write transactions so far. */
    public final AtomicInteger writes = new AtomicInteger();
    /** Write transactions that did more than take, renew, check or release a lease. */
    public final AtomicInteger dataWrites = new AtomicInteger();

    /** Counts the writes of {@code inner}. */
    public CountingStore(Store inner) {
        super(inner);
    }

    @Override
    public <T> T write(Function<StoreTx, T> work) {
        writes.incrementAndGet();
        return super.write(tx -> {
            boolean[] data = {false};
            StoreTx watched = (StoreTx) Proxy.newProxyInstance(StoreTx.class.getClassLoader(),
                    new Class<?>[] {StoreTx.class}, (proxy, method, args) -> {
                        if (!LEASE_CALLS.contains(method.getName())) {
                            data[0] = true;
                        }
                        try {
                            return method.invoke(tx, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            T result = work.apply(watched);
            if (data[0]) {
                dataWrites.incrementAndGet();
            }
            return result;
        });
    }
}
