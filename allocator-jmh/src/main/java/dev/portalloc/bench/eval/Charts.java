package dev.portalloc.bench.eval;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Draws the report's charts with XChart and returns them as base64 PNG, ready for an {@code <img src="data:...">}
 * (the HTML report is one self-contained file).
 *
 * <p>Thread-safety: stateless; AWT is used headless.
 */
final class Charts {
    static final int WIDTH = 900;
    static final int HEIGHT = 420;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /**
     * A chart of one metric against occupancy, one line per algorithm.
     *
     * @param title the title
     * @param yTitle the y-axis title
     * @param series algorithm → (occupancy → value); NaN and infinite values are left out
     * @param logY whether the y axis is logarithmic (values ≤ 0 are then left out)
     * @return base64 PNG
     * @throws IOException if encoding fails
     */
    static String versusOccupancy(String title, String yTitle, Map<String, Map<Double, Double>> series, boolean logY)
        throws IOException {
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
            .xAxisTitle("occupancy (fraction of selectable ports in use)").yAxisTitle(yTitle).build();
        chart.getStyler().setYAxisLogarithmic(logY).setXAxisDecimalPattern("0.###");
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        boolean any = false;
        for (Map.Entry<String, Map<Double, Double>> e : series.entrySet()) {
            final List<Double> xs = new ArrayList<>();
            final List<Double> ys = new ArrayList<>();
            for (Map.Entry<Double, Double> point : e.getValue().entrySet()) {
                final double y = point.getValue();
                if (Double.isFinite(y) && (!logY || y > 0)) {
                    xs.add(point.getKey());
                    ys.add(y);
                }
            }
            if (!xs.isEmpty()) {
                chart.addSeries(e.getKey(), xs, ys).setMarker(SeriesMarkers.CIRCLE);
                any = true;
            }
        }
        if (!any) {
            chart.getStyler().setYAxisLogarithmic(false);
            chart.addSeries("(no data)", new double[] {0}, new double[] {0});
        }
        return png(chart);
    }

    /**
     * A bar chart.
     *
     * @param title the title
     * @param yTitle the y-axis title
     * @param bars series name → (category → value); non-finite values are drawn as 0
     * @return base64 PNG
     * @throws IOException if encoding fails
     */
    static String bars(String title, String yTitle, LinkedHashMap<String, LinkedHashMap<String, Double>> bars)
        throws IOException {
        final CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
            .yAxisTitle(yTitle).build();
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (Map.Entry<String, LinkedHashMap<String, Double>> e : bars.entrySet()) {
            final List<String> xs = new ArrayList<>(e.getValue().keySet());
            final List<Double> ys = new ArrayList<>();
            for (double v : e.getValue().values()) {
                ys.add(Double.isFinite(v) ? v : 0);
            }
            if (!xs.isEmpty()) {
                chart.addSeries(e.getKey(), xs, ys);
            }
        }
        return png(chart);
    }

    private static String png(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) throws IOException {
        final byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        return Base64.getEncoder().encodeToString(bytes);
    }
}
