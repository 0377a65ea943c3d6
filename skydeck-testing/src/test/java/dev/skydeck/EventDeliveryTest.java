package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.testing.Concurrently;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every listener receives every committed event exactly once, in sequence order, under concurrent writers. */
@ExtendWith(NoThreadLeaks.class)
class EventDeliveryTest {
    @Test
    void eightWritersThreeHundredEventsEachEveryListenerSeesAllInOrder() throws Exception {
        ManualClock clock = new ManualClock();
        try (SkyDeck deck = SkyDeck.builder().store(new InMemoryStore()).backend(new FakeBackend(clock)).clock(clock)
                .scheduler(clock).build()) {
            long before = deck.events(EventQuery.latest(1)).stream().mapToLong(Event::seq).findFirst().orElse(0);

            List<List<Long>> seen = Concurrently.writeEventsFromThreads(deck, "w", 8, 300, 3);

            long last = deck.events(EventQuery.latest(1)).get(0).seq();
            List<Long> expected = LongStream.rangeClosed(before + 1, last).boxed().toList();
            assertThat(expected).hasSizeGreaterThanOrEqualTo(2400);
            for (List<Long> listener : seen) {
                assertThat(listener).containsExactlyElementsOf(expected);
            }
        }
    }
}
