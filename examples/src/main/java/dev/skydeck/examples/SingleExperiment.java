package dev.skydeck.examples;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Job;
import dev.skydeck.RestartPolicy;
import dev.skydeck.SkyDeck;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.toy.ToyTrainer;
import java.io.BufferedReader;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * One experiment, end to end: a toy run that fails at epoch 3 once, is restarted by its
 * {@code ON_FAILURE} policy, and is then fixed and restarted by hand. Prints its jobs,
 * the tail of its log and its checkpoints.
 */
public final class SingleExperiment {
    private SingleExperiment() {
    }

    /** Runs the example. */
    public static void main(String[] args) throws IOException {
        try (SkyDeck deck = SkyDeck.open()) {
            String name = "single.toy";
            deck.findExperiment(name).ifPresent(deck::delete);
            ExperimentSpec spec = ExperimentSpec.named(name)
                    .flag("epochs", 4)
                    .flag("sleep_ms", 200)
                    .flag("fail_at_epoch", 3)
                    .restartPolicy(RestartPolicy.onFailure(1).withBackoff(Duration.ofSeconds(1), Duration.ofSeconds(5)))
                    .desired(DesiredState.RUNNING);
            if (deck.backend() instanceof LocalBackend) {
                spec = spec.baseCommand(ToyTrainer.baseCommand());
            }
            Experiment e = deck.create(spec);
            System.out.println("created " + e.name() + "; it fails at epoch 3, is retried once, and fails again");
            e = deck.awaitSettled(List.of(e), Duration.ofMinutes(10)).get(0);
            System.out.println("settled: " + e.currentState() + " — " + e.stateReason());

            System.out.println("fixing the flag and restarting it (a new generation)");
            e = deck.update(e, s -> s.withoutFlag("fail_at_epoch"));
            e = deck.restart(e);
            e = deck.awaitSettled(List.of(e), Duration.ofMinutes(10)).get(0);
            deck.syncCheckpoints();
            e = deck.refresh(e);
            System.out.println("settled: " + e.currentState() + ", latest epoch " + e.latestEpoch());

            for (Job j : deck.jobs(e)) {
                System.out.printf("job %s attempt %d generation %d: %s exit=%s %s%n", j.id(), j.attempt(),
                        j.generation(), j.status(), j.exitCode(), j.failureReason() == null ? "" : j.failureReason());
            }
            Job last = deck.jobs(e).get(0);
            System.out.println("last lines of " + last.id() + ":");
            try (BufferedReader log = new BufferedReader(deck.logs(last, 3, false))) {
                log.lines().forEach(line -> System.out.println("  " + line));
            }
            deck.checkpoints(e, 10).forEach(c -> System.out.println("checkpoint epoch " + c.epoch() + ": "
                    + c.modelPath() + (c.replayPaths().isEmpty() ? "" : " + " + c.replayPaths().size() + " replay(s)")));
        }
    }
}
