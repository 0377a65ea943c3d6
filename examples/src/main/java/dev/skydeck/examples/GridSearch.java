package dev.skydeck.examples;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Job;
import dev.skydeck.SkyDeck;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.local.ToyTrainer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The grid search of the original SkyDeck: a 2 × 4 grid (nodes × layers on SkyPilot; GPUs ×
 * layers on the local backend, where a job has one node), all started at once, waited for, and
 * summarised. Runs with no configuration: SkyDeck's default database and backend {@code auto}
 * (local processes running {@link ToyTrainer} here). Run it again to restart the same grid.
 */
public final class GridSearch {
    private GridSearch() {
    }

    /** Creates (or restarts) the grid, waits for it, and prints a table. */
    public static void main(String[] args) {
        try (SkyDeck deck = SkyDeck.open()) {
            boolean local = deck.backend() instanceof LocalBackend;
            List<Experiment> grid = new ArrayList<>();
            for (int size : new int[] {1, 2}) {
                for (int layers : new int[] {1, 4, 16, 64}) {
                    String name = (local ? "grid.gpus" : "grid.nodes") + size + ".layers" + layers;
                    ExperimentSpec spec = ExperimentSpec.named(name)
                            .flag("trainer.losses.ppo.enabled", true)
                            .flag("policy_architecture.core_resnet_layers", layers)
                            .flag("epochs", 5)
                            .flag("sleep_ms", 300)
                            .description("grid search: " + (local ? "gpus " : "nodes ") + size + " × layers " + layers)
                            .tags(List.of("grid"));
                    spec = local ? spec.baseCommand(ToyTrainer.baseCommand()).gpus(size) : spec.nodes(size).gpus(4);
                    grid.add(upsertAndStart(deck, spec));
                }
            }
            System.out.printf("Started %d experiments on the %s backend (%s); waiting for them…%n", grid.size(),
                    deck.backend().kind(), deck.health().backendReason());
            List<Experiment> settled = deck.awaitSettled(grid, Duration.ofMinutes(30));
            deck.syncCheckpoints();
            printTable(deck, settled);
        }
    }

    /** Creates the experiment RUNNING, or, if it exists from an earlier run, updates and restarts it. */
    static Experiment upsertAndStart(SkyDeck deck, ExperimentSpec spec) {
        return deck.findExperiment(spec.name())
                .map(existing -> deck.start(deck.update(existing, s -> spec.desired(s.desiredState()))))
                .orElseGet(() -> deck.create(spec.desired(DesiredState.RUNNING)));
    }

    static void printTable(SkyDeck deck, List<Experiment> experiments) {
        System.out.printf(Locale.ROOT, "%-24s %-9s %-7s %-10s %-5s %-6s %s%n", "EXPERIMENT", "STATE", "LAYERS",
                "RESOURCES", "EXIT", "EPOCH", "JOB");
        for (Experiment stale : experiments) {
            Experiment e = deck.refresh(stale);
            List<Job> jobs = deck.jobs(e);
            Job last = jobs.isEmpty() ? null : jobs.get(0);
            System.out.printf(Locale.ROOT, "%-24s %-9s %-7s %-10s %-5s %-6s %s%n", e.name(), e.currentState(),
                    e.flags().get("policy_architecture.core_resnet_layers"),
                    e.spec().nodes() + "×" + e.spec().gpus() + " GPU",
                    last == null || last.exitCode() == null ? "-" : last.exitCode(),
                    e.latestEpoch() == null ? "-" : e.latestEpoch(),
                    last == null ? "-" : last.id() + (last.failureReason() == null ? "" : " (" + last.failureReason() + ")"));
        }
    }
}
