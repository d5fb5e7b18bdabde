// Line plots as standalone SVG files (no plotting library): one or more series of (x, y) points
// on linear axes with five labelled ticks each, and a legend.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace petl::train {

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

// The SVG text; an empty plot (no points at all) still has its axes and title.
std::string line_plot_svg(const std::string& title, const std::string& x_label, const std::string& y_label,
                          const std::vector<PlotSeries>& series);
// Writes line_plot_svg(...) to `path` atomically.
void write_line_plot(const std::filesystem::path& path, const std::string& title, const std::string& x_label,
                     const std::string& y_label, const std::vector<PlotSeries>& series);

}  // namespace petl::train
