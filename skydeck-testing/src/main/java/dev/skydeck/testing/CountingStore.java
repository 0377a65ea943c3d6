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

    private final java.util.Map<Thread, AtomicInteger> dataWritesByThread = new java.util.concurrent.ConcurrentHashMap<>();

    /** Counts the writes of {@code inner}. */
    public CountingStore(Store inner) {
        super(inner);
    }

    /** The {@link #dataWrites} made on {@code thread} (a caller's own, without the engine's threads). */
    public int dataWritesOn(Thread thread) {
        AtomicInteger n = dataWritesByThread.get(thread);
        return n == null ? 0 : n.get();
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
                dataWritesByThread.computeIfAbsent(Thread.currentThread(), t -> new AtomicInteger()).incrementAndGet();
            }
            return result;
        });
    }
}
