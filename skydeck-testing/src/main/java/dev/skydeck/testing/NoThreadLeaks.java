package dev.skydeck.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Fails a test that leaves a {@code skydeck-*} thread running after it closed what it opened. */
public final class NoThreadLeaks implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoThreadLeaks.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("before", skydeckThreads());
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterEach(ExtensionContext context) {
        Set<String> before = (Set<String>) context.getStore(NS).get("before");
        await("skydeck threads to end").atMost(Duration.ofSeconds(20)).until(() -> {
            Set<String> now = skydeckThreads();
            now.removeAll(before);
            return now.isEmpty();
        });
    }

    static Set<String> skydeckThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("skydeck-")).collect(Collectors.toSet());
    }
}
