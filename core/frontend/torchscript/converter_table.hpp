// The flat converter table, assembled from one registration function per
// op family. Converters use only the SDK API (no LibTorch), so adding an op
// is adding a row in one of these files.
#pragma once

#include <map>
#include <string>

#include "exporters/frontend/converter.hpp"

namespace exporters::frontend {

using ConverterTable = std::map<std::string, OpConverter>;

void add_elementwise_converters(ConverterTable& table);  // math, comparisons, logic, where, masked_fill, type promotion
void add_reduction_converters(ConverterTable& table);    // sum mean max min argmax norm cumsum ...
void add_shape_converters(ConverterTable& table);        // view reshape permute cat split slice select index gather ...
void add_creation_converters(ConverterTable& table);     // arange zeros ones full *_like new_* ...
void add_nn_converters(ConverterTable& table);           // linear matmul conv norms pools resize activations softmax embedding einsum dropout
// prim::*, aten::size/Int/Float/ScalarImplicit, scalar math folding. Runs
// last: rows shared with tensor ops (aten::add, aten::eq, ...) are wrapped so
// a node whose operands are all numbers folds, others reach the tensor row.
void add_scalar_converters(ConverterTable& table);

}  // namespace exporters::frontend
