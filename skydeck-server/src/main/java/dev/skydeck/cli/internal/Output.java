package dev.skydeck.cli.internal;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Aligned tables for people, and progress that is a bar on a terminal and plain lines elsewhere. */
public final class Output {
    private Output() {
    }

    /** Prints {@code rows} under {@code header}, columns padded to their widest cell. */
    public static void table(PrintWriter out, List<String> header, List<List<String>> rows) {
        int[] width = new int[header.size()];
        List<List<String>> all = new ArrayList<>();
        if (header.stream().anyMatch(h -> !h.isEmpty())) {
            all.add(header);
        }
        all.addAll(rows);
        for (List<String> row : all) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], cell(row, i).length());
            }
        }
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                String c = cell(row, i);
                line.append(c);
                if (i < width.length - 1) {
                    line.append(" ".repeat(width[i] - c.length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String cell(List<String> row, int i) {
        String c = i < row.size() ? row.get(i) : "";
        return c == null ? "-" : c;
    }

    /** Progress of long work. */
    public static final class Progress {
        private final PrintWriter out;
        private final String label;
        private final boolean terminal;
        private int lastPercent = -1;

        /** Progress of {@code label}, drawn as a bar when {@code terminal}. */
        public Progress(PrintWriter out, String label, boolean terminal) {
            this.out = out;
            this.label = label;
            this.terminal = terminal;
        }

        /** Reports {@code done} of {@code total}. */
        public void update(long done, long total) {
            int percent = total <= 0 ? 100 : (int) (done * 100 / total);
            if (terminal) {
                int filled = percent * 30 / 100;
                out.print(String.format(Locale.ROOT, "\r%s [%s%s] %3d%% %d/%d", label, "#".repeat(filled),
                        " ".repeat(30 - filled), percent, done, total));
                if (done >= total) {
                    out.println();
                }
                out.flush();
            } else if (percent / 10 != lastPercent / 10 || done >= total) {
                out.println(String.format(Locale.ROOT, "%s: %d/%d (%d%%)", label, done, total, percent));
            }
            lastPercent = percent;
        }
    }
}
