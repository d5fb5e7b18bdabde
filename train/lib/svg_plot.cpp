#include "train/lib/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "nn/atomic_file.h"

namespace petl::train {
namespace {

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

}  // namespace

std::string line_plot_svg(const std::string& title, const std::string& x_label, const std::string& y_label,
                          const std::vector<PlotSeries>& series) {
  constexpr double kWidth = 640, kHeight = 400, kLeft = 70, kRight = 150, kTop = 40, kBottom = 50;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;
  // Data (x, y) to pixels: x grows right, y grows up.
  const auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * plot_w; };
  const auto py = [&](double y) { return kTop + (1 - (y - y0) / (y1 - y0)) * plot_h; };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"400\" font-family=\"sans-serif\" "
                    "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + number(kLeft + plot_w / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
         escape_xml(title) + "</text>\n";
  svg += "<rect x=\"" + number(kLeft) + "\" y=\"" + number(kTop) + "\" width=\"" + number(plot_w) + "\" height=\"" +
         number(plot_h) + "\" fill=\"none\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double xv = x0 + (x1 - x0) * i / 4, yv = y0 + (y1 - y0) * i / 4;
    svg += "<text x=\"" + number(px(xv)) + "\" y=\"" + number(kTop + plot_h + 16) + "\" text-anchor=\"middle\">" +
           number(xv) + "</text>\n";
    svg += "<text x=\"" + number(kLeft - 6) + "\" y=\"" + number(py(yv) + 4) + "\" text-anchor=\"end\">" + number(yv) +
           "</text>\n";
    svg += "<line x1=\"" + number(kLeft) + "\" x2=\"" + number(kLeft + plot_w) + "\" y1=\"" + number(py(yv)) +
           "\" y2=\"" + number(py(yv)) + "\" stroke=\"#ddd\"/>\n";
  }
  svg += "<text x=\"" + number(kLeft + plot_w / 2) + "\" y=\"" + number(kHeight - 10) + "\" text-anchor=\"middle\">" +
         escape_xml(x_label) + "</text>\n";
  svg += "<text transform=\"translate(16," + number(kTop + plot_h / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         escape_xml(y_label) + "</text>\n";
  static const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kColors[i % 6];
    std::string points;
    for (const auto& [x, y] : series[i].points)
      if (std::isfinite(x) && std::isfinite(y)) points += number(px(x)) + "," + number(py(y)) + " ";
    svg += std::string("<polyline fill=\"none\" stroke=\"") + color + "\" stroke-width=\"1.5\" points=\"" + points +
           "\"/>\n";
    const double ly = kTop + 14 + 18 * double(i);
    svg += std::string("<line x1=\"") + number(kLeft + plot_w + 10) + "\" x2=\"" + number(kLeft + plot_w + 30) +
           "\" y1=\"" + number(ly - 4) + "\" y2=\"" + number(ly - 4) + "\" stroke=\"" + color +
           "\" stroke-width=\"2\"/>\n";
    svg += "<text x=\"" + number(kLeft + plot_w + 34) + "\" y=\"" + number(ly) + "\">" + escape_xml(series[i].name) +
           "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

void write_line_plot(const std::filesystem::path& path, const std::string& title, const std::string& x_label,
                     const std::string& y_label, const std::vector<PlotSeries>& series) {
  nn::write_file_atomic(path, line_plot_svg(title, x_label, y_label, series));
}

}  // namespace petl::train
