r"""Global value chain (GVC) accounting on a multi-regional input-output (MRIO) table.

Pure functions of an immutable :class:`MRIO` table (benchmark or counterfactual): value-added
decompositions of gross exports, participation, position and trade-structure indicators, and a
long-format :func:`summary` of headline indicators for the results layer.

One module per family of indicators, each citing its own papers:

- :mod:`~cge.gvc.tables`: :class:`MRIO`, the package's table (:class:`cge.mrio.MRIOTable`) with its
  Leontief algebra, aggregation, :func:`to_long`;
- :mod:`~cge.gvc.leontief`: Leontief value-added origin, vertical specialisation, VAX, NRCA;
- :mod:`~cge.gvc.kww_wwz`: Koopman-Wang-Wei and Wang-Wei-Zhu decompositions of gross exports;
- :mod:`~cge.gvc.borin_mancini`: Borin-Mancini exports and imports, their tripartite GVC measures,
  Miroudot-Ye;
- :mod:`~cge.gvc.tiva`: OECD TiVA, Wang-Wei-Yu-Zhu participation, intra-regional and intermediate
  trade shares;
- :mod:`~cge.gvc.positions`: upstreamness, downstreamness, production length, border crossings;
- :mod:`~cge.gvc.tariffs`: tariffs along the chain (cumulative tariffs, Rouzet and Miroudot 2013)
  and effective rates of protection (Corden 1966), from a benchmark table and its tariffs;
- :mod:`~cge.gvc.summary`: headline indicators for the results layer.

Notation
--------
The table has :math:`n` rows (country-sectors; rows sell, columns buy) grouped in :math:`G`
economies. For economy :math:`s`, :math:`Z_{sr}` and :math:`A_{sr} = Z_{sr}\hat x_r^{-1}` are the
intermediate-flow and input-coefficient blocks, :math:`Y_{sr}` final goods of :math:`s` bought by
:math:`r`, :math:`x` gross output, :math:`v = va / x` value-added coefficients (``va`` defaults to
:math:`x - u'Z`), :math:`V = \mathrm{diag}(v)` and

.. math::
    B = (I - A)^{-1}, \qquad L = \mathrm{blockdiag}_s\,(I - A_{ss})^{-1}, \qquad
    A^F = A - \mathrm{blockdiag}_s A_{ss},

the global and the local (domestic) Leontief inverses and the foreign input coefficients. Bilateral
gross exports are :math:`E_{sr} = Z_{sr} u + Y_{sr}` (:math:`r \ne s`) and total exports
:math:`E_{s*} = \sum_{r \ne s} E_{sr}`. Final demand of all economies is
:math:`y = Y u`, its domestic part :math:`y^D_s = Y_{ss}` and its exported part
:math:`y^F_s = \sum_{r\ne s} Y_{sr}`. ``#`` is the element-wise product.

Following the papers implemented here (Koopman, Wang and Wei 2014; Wang, Wei and Zhu 2013; Borin
and Mancini 2019, 2023), formulas write the **exporter** :math:`s` and the **importer** :math:`r`;
results are labelled unambiguously with the index levels ``exporter``, ``sector``, ``importer``
(and ``region`` for indicators that are not about a trade flow).

Rows, economies and groups
--------------------------
By default row :math:`k` of a :math:`G S \times G S` table belongs to region ``regions[k // S]`` and
sector ``sectors[k % S]``. ``row_regions``/``row_sectors`` map rows explicitly, so that several row
blocks can belong to one country (OECD ICIO split tables: China and Mexico appear as CN1/CN2 and
MX1/MX2 processing blocks); such a country's domestic block is the whole set of its rows. ``groups``
(e.g. ``{"NAFTA": ["MEX", "USA"]}``) treat their members as one economy: trade inside the group is
domestic (local Leontief inverse over the group block, final demand of members summed), as in
R package exvatools (Feás 2023).

References
----------
- Antràs, P., Chor, D., Fally, T. and Hillberry, R. (2012). Measuring the upstreamness of
  production and trade flows. *American Economic Review P&P* 102(3), 412-416.
- Borin, A. and Mancini, M. (2019). Measuring what matters in global value chains and value-added
  trade. World Bank Policy Research Working Paper 8804.
- Borin, A. and Mancini, M. (2023). Measuring what matters in value-added trade. *Economic Systems
  Research* 35(4), 586-613.
- Borin, A., Mancini, M. and Taglioni, D. (2021). Economic consequences of trade and global value
  chain integration: a measurement perspective. World Bank Policy Research Working Paper 9785.
- Belotti, F., Borin, A. and Mancini, M. (2021). icio: Economic analysis with intercountry
  input-output tables. *Stata Journal* 21(3), 708-755.
- Feás, E. (2023). exvatools: value added in exports and other input-output table analysis tools.
  R package, CRAN.
- Hummels, D., Ishii, J. and Yi, K.-M. (2001). The nature and growth of vertical specialization in
  world trade. *Journal of International Economics* 54(1), 75-96.
- Johnson, R. C. and Noguera, G. (2012). Accounting for intermediates: production sharing and
  trade in value added. *Journal of International Economics* 86(2), 224-236.
- Johnson, R. C. (2018). Measuring global value chains. *Annual Review of Economics* 10, 207-236.
- Koopman, R., Wang, Z. and Wei, S.-J. (2014). Tracing value-added and double counting in gross
  exports. *American Economic Review* 104(2), 459-494.
- Los, B., Timmer, M. P. and de Vries, G. J. (2016). Tracing value-added and double counting in
  gross exports: comment. *American Economic Review* 106(7), 1958-1966.
- Miller, R. E. and Temurshoev, U. (2017). Output upstreamness and input downstreamness of
  industries/countries in world production. *International Regional Science Review* 40(5), 443-475.
- Miroudot, S. and Ye, M. (2021). Decomposing value added in gross exports. *Economic Systems
  Research* 33(1), 67-87.
- Muradov, K. (2016). Counting borders in global value chains. 24th IIOA Conference, Seoul.
- OECD (2023). Guide to OECD Trade in Value Added (TiVA) indicators, 2023 edition.
- Quast, B. and Kummritz, V. (2015). decompr: global value chain decomposition in R. CTEI Working
  Paper 2015-01, Graduate Institute Geneva.
- Wang, Z., Wei, S.-J. and Zhu, K. (2013, rev. 2018). Quantifying international production
  sharing at the bilateral and sector levels. NBER Working Paper 19677.
- Wang, Z., Wei, S.-J., Yu, X. and Zhu, K. (2017a). Measures of participation in global value chains
  and global business cycles. NBER Working Paper 23222.
- Wang, Z., Wei, S.-J., Yu, X. and Zhu, K. (2017b). Characterizing global value chains: production
  length and upstreamness. NBER Working Paper 23261.
"""

from .borin_mancini import BM_TERMS, bm2025_output, bm2025_trade, bm_imports, borin_mancini, miroudot_ye
from .kww_wwz import KWW_TERMS, WWZ_TERMS, kww, wwz
from .leontief import leontief, nrca, vax, vertical_specialisation
from .positions import border_crossings, downstreamness, production_length, upstreamness
from .summary import SUMMARY_INDICATORS, summary
from .tables import AGGREGATIONS, MRIO, BlockDiag, to_long
from .tariffs import cumulative_tariffs, effective_protection, final_goods_burden, upstream_tariff_content
from .tiva import intermediate_share, intra_regional_trade_share, tiva, wwyz_participation

__all__ = [
    "AGGREGATIONS",
    "BM_TERMS",
    "BlockDiag",
    "KWW_TERMS",
    "MRIO",
    "SUMMARY_INDICATORS",
    "WWZ_TERMS",
    "borin_mancini",
    "bm_imports",
    "bm2025_output",
    "bm2025_trade",
    "border_crossings",
    "cumulative_tariffs",
    "downstreamness",
    "effective_protection",
    "final_goods_burden",
    "intermediate_share",
    "intra_regional_trade_share",
    "kww",
    "leontief",
    "miroudot_ye",
    "nrca",
    "production_length",
    "summary",
    "tiva",
    "to_long",
    "upstream_tariff_content",
    "upstreamness",
    "vax",
    "vertical_specialisation",
    "wwyz_participation",
    "wwz",
]
