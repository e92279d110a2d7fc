#include "report/convolution_report.h"

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "report/text_table.h"

namespace r50 {
namespace {

std::string dims(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

std::string convolution_algorithms_json(const std::vector<ConvolutionAlgorithm>& algorithms) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const ConvolutionAlgorithm& choice : algorithms) {
    array.push_back({{"direction", choice.direction},
                     {"input", choice.input},
                     {"filter", choice.filter},
                     {"dtype", choice.dtype},
                     {"stride", choice.stride},
                     {"padding", choice.padding},
                     {"algorithm", choice.algorithm},
                     {"workspace_bytes", choice.workspace_bytes},
                     {"search_ms", choice.search_ms}});
  }
  return array.dump(2);
}

std::string convolution_algorithms_table(const std::vector<ConvolutionAlgorithm>& algorithms) {
  TextTable table({"direction", "input", "filter", "dtype", "stride", "padding", "algorithm", "workspace"},
                  {true, true, true, true, false, false, true, false});
  for (const ConvolutionAlgorithm& choice : algorithms) {
    table.add_row({choice.direction, dims(choice.input), dims(choice.filter), choice.dtype,
                   std::to_string(choice.stride), std::to_string(choice.padding), choice.algorithm,
                   format_bytes(choice.workspace_bytes)});
  }
  return table.str();
}

}  // namespace r50
