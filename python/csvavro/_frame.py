"""Column arrays from the C core to pandas: one typed array per column, never one object per row.

The extension hands each column over as a bytearray of fixed-width values (viewed by numpy
without a copy), a bytearray of validity bytes (nullable fields), or a list of strings. Here they
become pandas extension arrays with proper dtypes:

  boolean -> "boolean"         int -> "Int32"          long -> "Int64"
  float -> float32 (NaN=null)  double -> float64        string -> "string"    bytes -> object
  date, local-timestamp(-millis) -> datetime64[ns]      timestamp(-millis) -> datetime64[ns, UTC]
  decimal (bytes or fixed) -> object: exact decimal.Decimal values at the schema's scale, None
                              for null (pandas has no exact decimal dtype of its own)

A value outside pandas' datetime64[ns] range (years 1677..2262) raises OverflowError naming the
column, rather than wrapping around silently.
"""
import decimal

import numpy as np
import pandas as pd

# csvavro_type values (include/csvavro.h)
NULL, BOOLEAN, INT, LONG, FLOAT, DOUBLE, STRING, BYTES, DATE = range(9)
TS_MICROS, LOCAL_TS_MICROS, TS_MILLIS, LOCAL_TS_MILLIS = 9, 10, 11, 12
DECIMAL, DECIMAL_FIXED = 13, 14
# exact arithmetic for decimals: precision is at most 76 digits (Avro decimals csvavro reads)
_DEC_CTX = decimal.Context(prec=200, Emin=-999999, Emax=999999)

_NP = {BOOLEAN: np.uint8, INT: np.int32, LONG: np.int64, FLOAT: np.float32, DOUBLE: np.float64,
       DATE: np.int32, TS_MICROS: np.int64, LOCAL_TS_MICROS: np.int64, TS_MILLIS: np.int64,
       LOCAL_TS_MILLIS: np.int64}
# nanoseconds per unit of the stored value
_NS = {DATE: 86400 * 10**9, TS_MICROS: 1000, LOCAL_TS_MICROS: 1000, TS_MILLIS: 10**6,
       LOCAL_TS_MILLIS: 10**6}
_UTC = {TS_MICROS, TS_MILLIS}
_MAX_NS = np.iinfo(np.int64).max


def dtype_name(t):
    """The pandas dtype a csvavro type becomes (for meta frames)."""
    return {BOOLEAN: "boolean", INT: "Int32", LONG: "Int64", FLOAT: "float32", DOUBLE: "float64",
            STRING: "string", BYTES: "object", NULL: "object", DATE: "datetime64[ns]",
            LOCAL_TS_MICROS: "datetime64[ns]", LOCAL_TS_MILLIS: "datetime64[ns]",
            TS_MICROS: "datetime64[ns, UTC]", TS_MILLIS: "datetime64[ns, UTC]",
            DECIMAL: "object", DECIMAL_FIXED: "object"}[t]


def decimal_value(raw, scale):
    """decimal.Decimal of an Avro decimal's bytes (unscaled big-endian two's complement)."""
    return decimal.Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale, _DEC_CTX)


def decimal_text(text, scale):
    """decimal.Decimal of a decimal's CSV text at the column's scale (head)."""
    q = decimal.Decimal(text.strip()).quantize(decimal.Decimal(1).scaleb(-scale), context=_DEC_CTX)
    return q if q else q.copy_abs()  # "-0" is stored as 0


def _datetimes(name, t, vals, mask):
    unit = _NS[t]
    v = vals.astype(np.int64, copy=False)
    live = v if mask is None else v[~mask]
    if live.size and (live.max() > _MAX_NS // unit or live.min() < -(_MAX_NS // unit)):
        raise OverflowError("column %r: a value is outside pandas' datetime64[ns] range "
                            "(years 1677..2262)" % name)
    ns = v * unit
    if mask is not None:
        ns = ns.copy() if ns is v else ns
        ns[mask] = np.iinfo(np.int64).min  # NaT
    arr = ns.view("datetime64[ns]")
    s = pd.Series(arr, copy=False)
    return s.dt.tz_localize("UTC") if t in _UTC else s


def column(name, t, values, valid, strings, n, scale=0):
    """One pandas Series from the extension's column parts (scale: a decimal column's)."""
    if t in (DECIMAL, DECIMAL_FIXED):
        arr = np.empty(n, dtype=object)
        arr[:] = [None if b is None else decimal_value(b, scale) for b in strings]
        return pd.Series(arr, dtype="object", copy=False)
    mask = None
    if valid is not None:
        mask = np.frombuffer(valid, dtype=np.uint8, count=n) == 0
    if t in (STRING, BYTES, NULL):
        if t == NULL:
            return pd.Series([None] * n, dtype="object")
        arr = np.empty(n, dtype=object)
        arr[:] = strings
        if t == BYTES:
            return pd.Series(arr, dtype="object")
        if mask is not None and mask.any():
            arr[mask] = pd.NA
        return pd.Series(pd.arrays.StringArray(arr), copy=False)
    vals = np.frombuffer(values, dtype=_NP[t], count=n)
    if t in _NS:
        return _datetimes(name, t, vals, mask)
    if mask is None:
        mask_ = np.zeros(n, dtype=bool)
    else:
        mask_ = mask
    if t == BOOLEAN:
        return pd.Series(pd.arrays.BooleanArray(vals.astype(bool), mask_.copy()), copy=False)
    if t in (INT, LONG):
        return pd.Series(pd.arrays.IntegerArray(vals.copy(), mask_.copy()), copy=False)
    out = vals.copy()
    if mask is not None:
        out[mask] = np.nan
    return pd.Series(out, copy=False)


def frame(cols, n, scales=None):
    """DataFrame from [(name, type, values, valid, strings)] of n rows; scales: {name: scale}
    of the decimal columns."""
    data = {}
    for name, t, values, valid, strings in cols:
        data[name] = column(name, t, values, valid, strings, n, (scales or {}).get(name, 0))
    df = pd.DataFrame(data)
    df.index = pd.RangeIndex(n)
    return df


def empty(fields):
    """An empty frame with the dtypes of [(name, type)]."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype_name(t)) for name, t in fields})
