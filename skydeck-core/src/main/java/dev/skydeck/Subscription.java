package dev.skydeck;

/** A registration (an event listener, say) that {@link #close()} ends. Closing twice is harmless. */
@FunctionalInterface
public interface Subscription extends AutoCloseable {
    /** Ends the registration; never throws. */
    @Override
    void close();
}
