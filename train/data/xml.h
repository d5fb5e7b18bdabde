// A small strict XML 1.0 reader for data files such as WebNLG's (W3C XML 1.0, 5th edition): one
// root element; elements with attributes ('...' or "..." values) and character data; the five
// predefined entities (&amp; &lt; &gt; &quot; &apos;) and numeric character references (&#N;
// &#xH;); CDATA sections; comments; processing instructions and the XML declaration (skipped).
// Line ends are normalized to "\n" (§2.11) and whitespace in attribute values to spaces (§3.3.3).
// Not supported, and reported as errors: DOCTYPE declarations (so no user-defined entities),
// namespaces beyond treating "a:b" as a plain name, encodings other than UTF-8.
// Every error is a petl::Error "<source>:<line>:<column>: ..." saying what was expected.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace petl::data {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;  // in document order
  std::string text;                                             // all character data directly inside, concatenated
  std::vector<XmlElement> children;
  int64_t line = 0;  // line of the start tag

  // The attribute's value, or nullptr when absent.
  const std::string* attribute(std::string_view key) const;
  // Children with this name, in order.
  std::vector<const XmlElement*> children_named(std::string_view child_name) const;
};

// Parses a whole document held in memory; `source_name` is what errors call it.
XmlElement parse_xml(std::string_view text, const std::string& source_name);

// Reads (UTF-8 checked) and parses a file.
XmlElement read_xml_file(const std::string& path);

}  // namespace petl::data
