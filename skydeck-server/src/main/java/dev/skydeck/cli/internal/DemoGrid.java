package dev.skydeck.cli.internal;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Group;
import dev.skydeck.SkyDeck;
import dev.skydeck.toy.ToyTrainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The demo's experiments: a learning-rate × depth grid of the toy trainer, one of which fails on purpose. */
final class DemoGrid {
    private static final double[] LEARNING_RATES = {0.001, 0.003, 0.01, 0.03, 0.1};
    private static final long[] LAYERS = {1, 4, 16, 64};

    private DemoGrid() {
    }

    /** Creates what is missing of the first {@code count} grid points, starts them all, returns how many. */
    static int createAndStart(SkyDeck deck, int count) {
        String command = ToyTrainer.baseCommand();
        List<ExperimentSpec> missing = new ArrayList<>();
        List<Experiment> existing = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            double lr = LEARNING_RATES[i % LEARNING_RATES.length];
            long layers = LAYERS[(i / LEARNING_RATES.length) % LAYERS.length];
            int seed = i / (LEARNING_RATES.length * LAYERS.length);
            String name = "demo.lr" + lr + "-l" + layers + (seed > 0 ? "-s" + seed : "");
            ExperimentSpec spec = ExperimentSpec.named(name).baseCommand(command)
                    .flag("trainer.optimizer.learning_rate", lr)
                    .flag("policy_architecture.core_resnet_layers", layers)
                    .flag("epochs", 30L).flag("sleep_ms", 1000L)
                    .description("toy trainer: learning rate " + lr + ", " + layers + " layers")
                    .tags(List.of("demo"));
            if (i == count - 1 && count > 2) {
                spec = spec.flag("fail_at_epoch", 8L).description("toy trainer that fails at epoch 8, on purpose");
            }
            Optional<Experiment> found = deck.findExperiment(name);
            if (found.isPresent()) {
                existing.add(found.get());
            } else {
                missing.add(spec.desired(DesiredState.RUNNING));
            }
        }
        List<Experiment> created = deck.createAll(missing);
        if (!created.isEmpty()) {
            Group group = deck.groups().stream().filter(g -> g.name().equals("demo grid")).findFirst()
                    .orElseGet(() -> deck.createGroup(Group.named("demo grid")
                            .withFlags(List.of("trainer.optimizer.learning_rate",
                                    "policy_architecture.core_resnet_layers"))));
            deck.addToGroup(group.id(), created.stream().map(Experiment::id).toList(), false);
        }
        for (Experiment e : existing) {
            deck.start(e);
        }
        return created.size() + existing.size();
    }
}
