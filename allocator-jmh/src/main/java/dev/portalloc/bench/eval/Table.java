package dev.portalloc.bench.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A titled table of formatted cells, rendered both as Markdown and as HTML so the two reports show the same
 * figures.
 *
 * <p>Thread-safety: not thread-safe while being filled; immutable in use afterwards by convention.
 */
final class Table {
    private final String title;
    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    Table(String title, List<String> headers) {
        this.title = title;
        this.headers = List.copyOf(headers);
    }

    void row(List<String> cells) {
        if (cells.size() != headers.size()) {
            throw new IllegalArgumentException("row of " + cells.size() + " cells for " + headers.size() + " headers");
        }
        rows.add(List.copyOf(cells));
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    /** Formats a figure compactly: integers without decimals, small values in scientific notation. */
    static String format(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "∞" : "-∞";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e12) {
            return String.format(Locale.ROOT, "%,d", (long) v);
        }
        final double a = Math.abs(v);
        if (a != 0 && a < 0.001) {
            return String.format(Locale.ROOT, "%.2e", v);
        }
        if (a < 10) {
            return String.format(Locale.ROOT, "%.4f", v);
        }
        return String.format(Locale.ROOT, "%,.1f", v);
    }

    String markdown() {
        final StringBuilder sb = new StringBuilder();
        sb.append("**").append(title).append("**\n\n");
        sb.append("| ").append(String.join(" | ", headers)).append(" |\n|");
        for (int i = 0; i < headers.size(); i++) {
            sb.append(i == 0 ? "---|" : "---:|");
        }
        sb.append('\n');
        for (List<String> r : rows) {
            sb.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        return sb.append('\n').toString();
    }

    String html() {
        final StringBuilder sb = new StringBuilder();
        sb.append("<table>\n<caption>").append(escape(title)).append("</caption>\n<tr>");
        for (String h : headers) {
            sb.append("<th>").append(escape(h)).append("</th>");
        }
        sb.append("</tr>\n");
        for (List<String> r : rows) {
            sb.append("<tr>");
            for (int i = 0; i < r.size(); i++) {
                sb.append(i == 0 ? "<td>" : "<td class=\"n\">").append(escape(r.get(i))).append("</td>");
            }
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
