# ruff: noqa: E501  (data table: citations, URLs and provenance strings are kept whole)
"""The registered datasets (imported once by :mod:`hs_data.registry`).

Sources of the facts below:

- files in the project's shared data folder: its MANIFEST.md (provenance, commits, licences) and
  the files themselves (:mod:`hs_data._shared_files`);
- the 20 datasets of HyperSIGMA (arXiv 2406.11519; TPAMI 47(8), 2025): the project's notes
  ``shared/reference/hypersigma.md`` section 6, and the upstream repository (file names and keys
  read in ``ChangeDetection/func.py``, ``HyperspectralDetection/*/func.py``,
  ``ImageClassification/model/data_reader.py`` at commit 07e9ea2);
- class names and sizes of the classic scenes: the GIC (UPV/EHU) "Hyperspectral Remote Sensing
  Scenes" page, the 2013 GRSS Data Fusion Contest, the WHU-Hi release (RSIDEA, Wuhan University).
  Where a number was not checked against a file here, the entry says so in ``notes``.
"""

from __future__ import annotations

from hs_data._shared_files import _SHARED
from hs_data.registry import ArraySpec, DatasetInfo, FileSpec, Role, register_dataset

# Full commits of the repositories the shared files were read from (MANIFEST "Source commits").
_COMMITS = {
    "FxyPd/DeCNNAD": "f61c7c3897d87373a658f069492fda83815992d0",
    "GatorSense/hsi_toolkit_py": "8c5a023bf2395c6bf88171aefcc3888b78c0d709",
    "HarlinLee/gtvMBO-public": "6eb0bd6891dc3aa8acdeea3ad4a4a9c1aa78003d",
    "SicongLiuRS/Hyperspectral-Change-Detection-Dataset-Irrigated-Agricultural-Area": (
        "430cdab836002a930070053f045b813509e7e087"
    ),
    "SicongLiuRS/Hyperspectral-Change-Detection-Dataset-Wetland-Area": "3cfb78cfc1611a645346f8f7532cd58d75197b96",
    "UPCGIT/Hyperspectral-Unmixing-Models": "3ec77a26ce726c2843b4e29070b435056941df39",
    "chy0926/Provable-Tensor-Robust-Principal-Component-Analysis-via-Adaptive-Convex-Concave-Regularization": (
        "4119ad0e63b7bd9d665854956eb259a3bfa5ce08"
    ),
    "helloworld-wuch/MATLAB": "4cb1f83be67f0ca4900d85d7bbce257cf68f4fa0",
    "hzhdhz/CTA": "1dfa20120bcabf987d168a983e5ce815ac162437",
    "mhaut/HSI-datasets": "29efb503bdde94f620ba3873d3a56039fef18257",
    "okejpmq/Hyper": "7622870e013f2bcfc18b60e545a6fcc3552e2676",
    "quanyumath/LTD": "ce94f9c58e72b2e241a929c619773ba2a897fea9",
    "sxt1996/EIRME": "619e80975e20ae4e8e66f714c95ae19e2fb1e5ef",
    "sxt1996/TD-PEPTE": "ba31d56a7877912acb4b82dd82f6449b41d0a2b9",
    "xdjiangkai/LREN": "6d35f0f9c6175920a53c83074c914f1f018fbb31",
    "zhazhiyuan/NLSSR_Denoising_Demo": "b0e62d0993073413e555f8e5542b1851cef7d5ce",
    "DhyanilMehta/SC505_Hyperspectral_Unmixing_Project": "807ccec21a8c8ccb6ca05082e5dbf70d9938b593",
    "sampolk/MultiscaleDiffusionClustering": "9c031063b61144b7188d87a3928ed3cd518435cf",
    "xdrl1/SpatiallyDisjointHSI": "3f5a1dfd1a71feb63bb60a5f3b607aae5fcf0a3a",
    "chenpan0615/ChangeDetectionRepository-master": "a89fae494b90364749be6b58cb1d5c11e854c823",
    "alfaiate/HySure": "8652a5838b95c29ca056f7921f8ac58def6bbaf7",
}

_GIC = "https://www.ehu.eus/ccwintco/index.php/Hyperspectral_Remote_Sensing_Scenes"
_GIC_UP = "https://www.ehu.eus/ccwintco/uploads/"
_GIC_TERMS = (
    "public research benchmark distributed by the GIC (UPV/EHU) page; no formal licence, cite the "
    "original provider"
)
_HS_TERMS = (
    "no formal licence stated; redistributed by research repositories; research use with citation "
    "(see MANIFEST.md)"
)
_HYPERSIGMA = "https://github.com/WHU-Sigma/HyperSIGMA"
_HYPERSIGMA_CITE = (
    "D. Wang et al., 'HyperSIGMA: Hyperspectral Intelligence Comprehension Foundation Model', "
    "IEEE TPAMI 47(8):6427-6444, 2025 (arXiv 2406.11519)"
)


def _shared(path: str, repo: str, repo_path: str, *, note: str = "") -> FileSpec:
    """A file of the shared data folder, with its recorded provenance (hash-checked source)."""
    sha, size, arrays = _SHARED[path]
    commit = _COMMITS[repo]
    return FileSpec(
        path=path,
        sha256=sha,
        size=size,
        urls=(f"https://raw.githubusercontent.com/{repo}/{commit}/{repo_path}",),
        url_status="hash-checked",
        source=f"github:{repo}@{commit}:{repo_path}",
        arrays=tuple(ArraySpec(k, tuple(s), d) for k, s, d in arrays),
        shared=True,
        note=note,
    )


def _absent(
    path: str,
    *,
    urls: tuple[str, ...] = (),
    status: str = "unverified",
    source: str = "",
    arrays: tuple[tuple[str | None, tuple[int, ...], str], ...] = (),
    size: int | None = None,
    note: str = "",
) -> FileSpec:
    """A file the project has never held: no checksum is known (the download is saved unverified)."""
    return FileSpec(
        path=path,
        sha256=None,
        size=size,
        urls=urls,
        url_status=status if urls else "none",
        source=source,
        arrays=tuple(ArraySpec(k, s, d) for k, s, d in arrays),
        shared=False,
        note=note,
    )


def _r(file: str, key: str | None, layout: str, **kw: object) -> Role:
    return Role(file=file, key=key, layout=layout, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------

_IP = "classification/indian_pines/"
_IP_CLASSES = (
    "Alfalfa",
    "Corn-notill",
    "Corn-mintill",
    "Corn",
    "Grass-pasture",
    "Grass-trees",
    "Grass-pasture-mowed",
    "Hay-windrowed",
    "Oats",
    "Soybean-notill",
    "Soybean-mintill",
    "Soybean-clean",
    "Wheat",
    "Woods",
    "Buildings-Grass-Trees-Drives",
    "Stone-Steel-Towers",
)
# Class numbering of the GRSS DASE / Haut-Paoletti spatially disjoint training map -> GT order.
# Derived by majority overlap with Indian_pines_gt.mat (hs_data.splits.derive_class_mapping) and
# checked by tests/test_real_splits.py; MANIFEST.md reports the same mapping against the PURR GT.
INDIAN_PINES_DISJOINT_TO_GT = (
    (1, 2),
    (2, 3),
    (3, 5),
    (4, 6),
    (5, 8),
    (6, 10),
    (7, 11),
    (8, 12),
    (9, 14),
    (10, 1),
    (11, 4),
    (12, 7),
    (13, 9),
    (14, 13),
    (15, 15),
    (16, 16),
)

register_dataset(
    DatasetInfo(
        name="indian_pines",
        title="Indian Pines (AVIRIS, corrected, 200 bands)",
        task="classification",
        sensor="AVIRIS",
        height=145,
        width=145,
        bands=200,
        files=(
            _absent(
                _IP + "Indian_pines_corrected.mat",
                urls=(_GIC_UP + "6/67/Indian_pines_corrected.mat",),
                status="seen-in-public-code",
                source="GIC UPV/EHU",
                arrays=(("indian_pines_corrected", (145, 145, 200), "uint16"),),
                size=5953527,
                note="size from the git blobs seen by the MANIFEST search; dtype as commonly reported",
            ),
            _shared(_IP + "Indian_pines_gt.mat", "helloworld-wuch/MATLAB", "Indian_pines_gt.mat"),
            _shared(
                _IP + "indianpines_disjoint_dset.mat",
                "mhaut/HSI-datasets",
                "Classification/indianpines_disjoint_dset.mat",
                note="GRSS DASE spatially disjoint training map; own class numbering (remapped on load)",
            ),
            _shared(
                _IP + "19920612_AVIRIS_IndianPine_Site3_gr.tif",
                "xdrl1/SpatiallyDisjointHSI",
                "creation/raw/IndianPines/19920612_AVIRIS_IndianPine_Site3_gr.tif",
                note="PURR ground truth (differs from the GIC map on ~400 pixels)",
            ),
        ),
        roles={
            "image": _r(_IP + "Indian_pines_corrected.mat", "indian_pines_corrected", "hwc"),
            "label": _r(_IP + "Indian_pines_gt.mat", "indian_pines_gt", "hw"),
            "train_map": _r(
                _IP + "indianpines_disjoint_dset.mat",
                "indianpines_disjoint_dset",
                "hw",
                remap=INDIAN_PINES_DISJOINT_TO_GT,
            ),
            "label_purr": _r(_IP + "19920612_AVIRIS_IndianPine_Site3_gr.tif", None, "hw"),
        },
        classes=_IP_CLASSES,
        wavelength_range_nm=(400.0, 2500.0),
        units="DN (at-sensor radiance counts, as released)",
        citation=(
            "M. F. Baumgardner, L. L. Biehl, D. A. Landgrebe, '220 Band AVIRIS Hyperspectral Image Data Set: "
            "June 12, 1992 Indian Pine Test Site 3', Purdue University Research Repository, 2015, "
            "doi:10.4231/R7RX991C"
        ),
        terms="PURR release listed CC0 1.0; GIC .mat copies: research use with citation",
        homepage=_GIC,
        how_to_get=(
            "download=True fetches the GIC .mat (no checksum known: saved unverified), or get the PURR "
            "release doi:10.4231/R7RX991C"
        ),
        hypersigma="v1",
        official_splits=("disjoint",),
        notes=(
            "20 water-absorption bands removed (104-108, 150-163, 220). 'disjoint' split: the GRSS DASE "
            "training map remapped to the GT order (training labels come from that map; 151 of its pixels "
            "are unlabelled in the GIC GT, 10 disagree); test = GT pixels outside it. HyperSIGMA uses 10 "
            "train + 5 val per class (random, transductive PCA)."
        ),
    )
)

_PU = "classification/pavia_university/"
register_dataset(
    DatasetInfo(
        name="pavia_university",
        title="Pavia University (ROSIS)",
        task="classification",
        sensor="ROSIS-03",
        height=610,
        width=340,
        bands=103,
        files=(
            _absent(
                _PU + "PaviaU.mat",
                urls=(_GIC_UP + "e/ee/PaviaU.mat",),
                status="seen-in-public-code",
                source="GIC UPV/EHU",
                arrays=(("paviaU", (610, 340, 103), "uint16"),),
            ),
            _shared(_PU + "PaviaU_gt.mat", "mhaut/HSI-datasets", "Classification/paviaU_gt.mat"),
            _shared(_PU + "TRpavia_fixed.mat", "mhaut/HSI-datasets", "Classification/TRpavia_fixed.mat"),
            _shared(_PU + "TSpavia_fixed.mat", "mhaut/HSI-datasets", "Classification/TSpavia_fixed.mat"),
        ),
        roles={
            "image": _r(_PU + "PaviaU.mat", "paviaU", "hwc"),
            "label": _r(_PU + "PaviaU_gt.mat", "paviaU_gt", "hw"),
            "train_map": _r(_PU + "TRpavia_fixed.mat", "TRpavia_fixed", "hw"),
            "test_map": _r(_PU + "TSpavia_fixed.mat", "TSpavia_fixed", "hw"),
        },
        classes=(
            "Asphalt",
            "Meadows",
            "Gravel",
            "Trees",
            "Painted metal sheets",
            "Bare Soil",
            "Bitumen",
            "Self-Blocking Bricks",
            "Shadows",
        ),
        wavelength_range_nm=(430.0, 860.0),
        units="DN (as released)",
        citation="courtesy of Prof. P. Gamba, University of Pavia; GIC UPV/EHU Hyperspectral Remote Sensing Scenes",
        terms=_GIC_TERMS,
        homepage=_GIC,
        how_to_get="download=True fetches the GIC PaviaU.mat (no checksum known: saved unverified)",
        hypersigma="v1",
        official_splits=("fixed",),
        notes=(
            "'fixed' split: the classic ROSIS training set TRpavia_fixed (3,921 px, 548/540/392/524/265/532/"
            "375/514/231 per class; 1,147 of them lie outside the GT map and keep their own labels) and "
            "TSpavia_fixed (40,002 px = GT minus training). HyperSIGMA seg uses 20 train + 20 val per class."
        ),
    )
)

_HOU = "classification/houston2013/"
register_dataset(
    DatasetInfo(
        name="houston2013",
        title="Houston 2013 (GRSS DFC 2013, CASI)",
        task="classification",
        sensor="ITRES CASI-1500",
        height=349,
        width=1905,
        bands=144,
        files=(
            _absent(
                _HOU + "2013_IEEE_GRSS_DF_Contest_CASI.tif",
                urls=("https://hyperspectral.ee.uh.edu/?page_id=459",),
                status="unverified",
                source="2013 IEEE GRSS Data Fusion Contest (registration)",
                arrays=((None, (144, 349, 1905), "float32"),),
                note="contest GeoTIFF; the page requires a request form, so download=True cannot fetch it",
            ),
            _shared(_HOU + "houston_gt.mat", "mhaut/HSI-datasets", "Classification/houston_gt.mat"),
        ),
        roles={
            "image": _r(_HOU + "2013_IEEE_GRSS_DF_Contest_CASI.tif", None, "chw"),
            "train_map": _r(_HOU + "houston_gt.mat", "houston_gt_tr", "hw"),
            "test_map": _r(_HOU + "houston_gt.mat", "houston_gt_te", "hw"),
        },
        classes=(
            "Healthy grass",
            "Stressed grass",
            "Synthetic grass",
            "Trees",
            "Soil",
            "Water",
            "Residential",
            "Commercial",
            "Road",
            "Highway",
            "Railway",
            "Parking Lot 1",
            "Parking Lot 2",
            "Tennis Court",
            "Running Track",
        ),
        wavelength_range_nm=(380.0, 1050.0),
        units="radiance (as released)",
        citation=(
            "C. Debes et al., 'Hyperspectral and LiDAR Data Fusion: Outcome of the 2013 GRSS Data Fusion "
            "Contest', IEEE JSTARS 7(6):2405-2418, 2014"
        ),
        terms=(
            "GRSS DFC 2013 terms: research use; acknowledge the Hyperspectral Image Analysis group and NCALM "
            "(University of Houston) and the IEEE GRSS IADF TC"
        ),
        homepage="https://hyperspectral.ee.uh.edu/?page_id=459",
        how_to_get="request the DFC 2013 data from the GRSS / University of Houston page, then place the cube",
        hypersigma="tpami",
        official_splits=("fixed",),
        notes=(
            "'label' = union of the official train (2,832 px) and test (12,197 px) maps. Whether HyperSIGMA "
            "used the 2013 or the 2018 variant is unverified (hypersigma.md 8.3)."
        ),
    )
)

_WHU_HC = (
    "Strawberry",
    "Cowpea",
    "Soybean",
    "Sorghum",
    "Water spinach",
    "Watermelon",
    "Greens",
    "Trees",
    "Grass",
    "Red roof",
    "Gray roof",
    "Plastic",
    "Bare soil",
    "Road",
    "Bright object",
    "Water",
)
_WHU_HH = (
    "Red roof",
    "Road",
    "Bare soil",
    "Cotton",
    "Cotton firewood",
    "Rape",
    "Chinese cabbage",
    "Pakchoi",
    "Cabbage",
    "Tuber mustard",
    "Brassica parachinensis",
    "Brassica chinensis",
    "Small Brassica chinensis",
    "Lactuca sativa",
    "Celtuce",
    "Film covered lettuce",
    "Romaine lettuce",
    "Carrot",
    "White radish",
    "Garlic sprout",
    "Broad bean",
    "Tree",
)
_WHU_HOME = "http://rsidea.whu.edu.cn/resource_WHUHi_sharing.htm"
_WHU_CITE = (
    "Y. Zhong et al., 'WHU-Hi: UAV-borne hyperspectral with high spatial resolution (H2) benchmark "
    "datasets and classifier for precise crop identification based on deep convolutional neural network "
    "with CRF', Remote Sensing of Environment 250:112012, 2020"
)
for _name, _title, _stem, _shape, _classes in (
    ("whu_hi_hanchuan", "WHU-Hi-HanChuan", "WHU_Hi_HanChuan", (1217, 303, 274), _WHU_HC),
    ("whu_hi_honghu", "WHU-Hi-HongHu", "WHU_Hi_HongHu", (940, 475, 270), _WHU_HH),
):
    _dir = f"classification/{_name}/"
    register_dataset(
        DatasetInfo(
            name=_name,
            title=f"{_title} (UAV, Headwall Nano-Hyperspec)",
            task="classification",
            sensor="Headwall Nano-Hyperspec (UAV)",
            height=_shape[0],
            width=_shape[1],
            bands=_shape[2],
            files=(
                _absent(_dir + f"{_stem}.mat", arrays=((_stem, _shape, "float32"),)),
                _absent(_dir + f"{_stem}_gt.mat", arrays=((f"{_stem}_gt", _shape[:2], "uint8"),)),
            ),
            roles={
                "image": _r(_dir + f"{_stem}.mat", _stem, "hwc"),
                "label": _r(_dir + f"{_stem}_gt.mat", f"{_stem}_gt", "hw"),
            },
            classes=_classes,
            wavelength_range_nm=(400.0, 1000.0),
            units="as released",
            citation=_WHU_CITE,
            terms="RSIDEA WHU-Hi release: research use with citation",
            homepage=_WHU_HOME,
            how_to_get=f"download the {_title} .mat pair from the RSIDEA WHU-Hi page and place it",
            hypersigma="v1",
            notes="file names and keys as in the WHU-Hi release (unverified here); HyperSIGMA seg: 50 train + 50 val per class",
        )
    )

register_dataset(
    DatasetInfo(
        name="zy1_02d",
        title="ZY1-02D AHSI scene (HyperSIGMA journal version)",
        task="classification",
        sensor="ZY1-02D AHSI",
        height=None,
        width=None,
        bands=166,
        units="unknown",
        citation=_HYPERSIGMA_CITE,
        terms="unknown",
        homepage=_HYPERSIGMA,
        how_to_get="no public source identified (the scene is not named in the upstream repository)",
        hypersigma="tpami",
        notes="scene, size and classes unknown (hypersigma.md 8.3); registered so the leaderboard can say so",
    )
)

_SAL = "classification/salinas/"
_SALINAS_CLASSES = (
    "Brocoli_green_weeds_1",
    "Brocoli_green_weeds_2",
    "Fallow",
    "Fallow_rough_plow",
    "Fallow_smooth",
    "Stubble",
    "Celery",
    "Grapes_untrained",
    "Soil_vinyard_develop",
    "Corn_senesced_green_weeds",
    "Lettuce_romaine_4wk",
    "Lettuce_romaine_5wk",
    "Lettuce_romaine_6wk",
    "Lettuce_romaine_7wk",
    "Vinyard_untrained",
    "Vinyard_vertical_trellis",
)
_SALINAS_CITE = (
    "J. A. Gualtieri et al., 'Support vector machine classifiers as applied to AVIRIS data', Proc. 8th JPL "
    "Airborne Geoscience Workshop, 1999; GIC UPV/EHU Hyperspectral Remote Sensing Scenes"
)
register_dataset(
    DatasetInfo(
        name="salinas",
        title="Salinas (AVIRIS, corrected)",
        task="classification",
        sensor="AVIRIS",
        height=512,
        width=217,
        bands=204,
        files=(
            _absent(
                _SAL + "Salinas_corrected.mat",
                urls=(_GIC_UP + "a/a3/Salinas_corrected.mat",),
                status="seen-in-public-code",
                source="GIC UPV/EHU",
                arrays=(("salinas_corrected", (512, 217, 204), "int16"),),
            ),
            _shared(_SAL + "Salinas_gt.mat", "okejpmq/Hyper", "Salinas_gt.mat"),
        ),
        roles={
            "image": _r(_SAL + "Salinas_corrected.mat", "salinas_corrected", "hwc"),
            "label": _r(_SAL + "Salinas_gt.mat", "salinas_gt", "hw"),
        },
        classes=_SALINAS_CLASSES,
        wavelength_range_nm=(400.0, 2500.0),
        citation=_SALINAS_CITE,
        terms=_GIC_TERMS,
        homepage=_GIC,
        how_to_get="download=True fetches the GIC Salinas_corrected.mat (no checksum known: saved unverified)",
        related=("salinas_a",),
        notes="not in HyperSIGMA; GT only here",
    )
)

_SA = "classification/salinas_a/"
register_dataset(
    DatasetInfo(
        name="salinas_a",
        title="Salinas-A (AVIRIS sub-scene of Salinas)",
        task="classification",
        sensor="AVIRIS",
        height=83,
        width=86,
        bands=204,
        files=(
            _shared(
                _SA + "SalinasA_corrected.mat",
                "DhyanilMehta/SC505_Hyperspectral_Unmixing_Project",
                "dataset/SalinasA_corrected.mat",
            ),
            _shared(
                _SA + "SalinasA_gt.mat",
                "sampolk/MultiscaleDiffusionClustering",
                "data/SalinasA/SalinasA_gt.mat",
            ),
        ),
        roles={
            "image": _r(_SA + "SalinasA_corrected.mat", "salinasA_corrected", "hwc"),
            "label": _r(
                _SA + "SalinasA_gt.mat",
                "salinasA_gt",
                "hw",
                remap=((1, 1), (10, 2), (11, 3), (12, 4), (13, 5), (14, 6)),
            ),
        },
        classes=(
            "Brocoli_green_weeds_1",
            "Corn_senesced_green_weeds",
            "Lettuce_romaine_4wk",
            "Lettuce_romaine_5wk",
            "Lettuce_romaine_6wk",
            "Lettuce_romaine_7wk",
        ),
        wavelength_range_nm=(400.0, 2500.0),
        units="DN (as released)",
        citation=_SALINAS_CITE,
        terms=_GIC_TERMS,
        homepage=_GIC,
        how_to_get="present in the shared data; else GIC page (SalinasA_corrected.mat, SalinasA_gt.mat)",
        related=("salinas",),
        notes="GT stored with full-Salinas numbering {1,10..14}; remapped on load to 1..6 (order kept)",
    )
)

for (
    _name,
    _title,
    _dir,
    _cube,
    _ckey,
    _cshape,
    _cdtype,
    _gtfile,
    _gtkey,
    _gtrepo,
    _gtrepo_path,
    _url_cube,
    _cls,
    _sensor,
    _cite,
) in (
    (
        "pavia_centre",
        "Pavia Centre (ROSIS)",
        "classification/pavia_centre/",
        "Pavia.mat",
        "pavia",
        (1096, 715, 102),
        "uint16",
        "Pavia_gt.mat",
        "pavia_gt",
        "mhaut/HSI-datasets",
        "Classification/paviaC_gt.mat",
        _GIC_UP + "e/e3/Pavia.mat",
        (
            "Water",
            "Trees",
            "Asphalt",
            "Self-Blocking Bricks",
            "Bitumen",
            "Tiles",
            "Shadows",
            "Meadows",
            "Bare Soil",
        ),
        "ROSIS-03",
        "courtesy of Prof. P. Gamba, University of Pavia; GIC UPV/EHU Hyperspectral Remote Sensing Scenes",
    ),
    (
        "ksc",
        "Kennedy Space Center (AVIRIS)",
        "classification/ksc/",
        "KSC.mat",
        "KSC",
        (512, 614, 176),
        "uint16",
        "KSC_gt.mat",
        "KSC_gt",
        "mhaut/HSI-datasets",
        "Classification/KSC_gt.mat",
        _GIC_UP + "2/26/KSC.mat",
        (
            "Scrub",
            "Willow swamp",
            "Cabbage palm hammock",
            "Cabbage palm/oak hammock",
            "Slash pine",
            "Oak/broadleaf hammock",
            "Hardwood swamp",
            "Graminoid marsh",
            "Spartina marsh",
            "Cattail marsh",
            "Salt marsh",
            "Mud flats",
            "Water",
        ),
        "AVIRIS",
        "J. Ham, Y. Chen, M. M. Crawford, J. Ghosh, 'Investigation of the random forest framework for "
        "classification of hyperspectral data', IEEE TGRS 43(3):492-501, 2005",
    ),
    (
        "botswana",
        "Botswana (EO-1 Hyperion)",
        "classification/botswana/",
        "Botswana.mat",
        "Botswana",
        (1476, 256, 145),
        "uint16",
        "Botswana_gt.mat",
        "Botswana_gt",
        "mhaut/HSI-datasets",
        "Classification/Botswana_gt.mat",
        _GIC_UP + "7/72/Botswana.mat",
        (
            "Water",
            "Hippo grass",
            "Floodplain grasses 1",
            "Floodplain grasses 2",
            "Reeds",
            "Riparian",
            "Firescar",
            "Island interior",
            "Acacia woodlands",
            "Acacia shrublands",
            "Acacia grasslands",
            "Short mopane",
            "Mixed mopane",
            "Exposed soils",
        ),
        "EO-1 Hyperion",
        "J. Ham, Y. Chen, M. M. Crawford, J. Ghosh, 'Investigation of the random forest framework for "
        "classification of hyperspectral data', IEEE TGRS 43(3):492-501, 2005",
    ),
):
    register_dataset(
        DatasetInfo(
            name=_name,
            title=_title,
            task="classification",
            sensor=_sensor,
            height=_cshape[0],
            width=_cshape[1],
            bands=_cshape[2],
            files=(
                _absent(
                    _dir + _cube,
                    urls=(_url_cube,),
                    status="unverified" if _name == "pavia_centre" else "seen-in-public-code",
                    source="GIC UPV/EHU",
                    arrays=((_ckey, _cshape, _cdtype),),
                ),
                _shared(_dir + _gtfile, _gtrepo, _gtrepo_path),
            ),
            roles={
                "image": _r(_dir + _cube, _ckey, "hwc"),
                "label": _r(_dir + _gtfile, _gtkey, "hw"),
            },
            classes=_cls,
            citation=_cite,
            terms=_GIC_TERMS,
            homepage=_GIC,
            how_to_get=f"download=True fetches the GIC {_cube} (no checksum known: saved unverified)",
            notes="not in HyperSIGMA; GT only here; cube dtype as commonly reported (unverified)",
        )
    )

# --------------------------------------------------------------------------------------------------
# Target detection
# --------------------------------------------------------------------------------------------------

register_dataset(
    DatasetInfo(
        name="mosaic_htd",
        title="Mosaic (SHARE 2012, target detection)",
        task="target_detection",
        sensor="ProSpecTIR-VS",
        height=None,
        width=None,
        bands=None,
        files=(_absent("target_detection/mosaic/mosaic.mat", arrays=()),),
        roles={
            "image": _r("target_detection/mosaic/mosaic.mat", "X", "hwc"),
            "label": _r("target_detection/mosaic/mosaic.mat", "TL", "hw"),
        },
        num_label_values=2,
        citation=(
            "A. Giannandrea et al., 'The SHARE 2012 data campaign', Proc. SPIE 8743, 2013; "
            + _HYPERSIGMA_CITE
        ),
        terms="SHARE 2012 data: research use with citation",
        homepage=_HYPERSIGMA,
        how_to_get="not distributed publicly in the upstream repository; keys X (H, W, C) and TL as upstream reads them",
        hypersigma="v1",
        notes="size unknown here",
    )
)
register_dataset(
    DatasetInfo(
        name="aviris_htd",
        title="AVIRIS (HyperSIGMA target-detection scene, San Diego)",
        task="target_detection",
        sensor="AVIRIS",
        height=None,
        width=None,
        bands=None,
        files=(_absent("target_detection/aviris/aviris.mat"),),
        roles={
            "image": _r("target_detection/aviris/aviris.mat", "X", "hwc"),
            "label": _r("target_detection/aviris/aviris.mat", "TL", "hw"),
        },
        num_label_values=2,
        citation=_HYPERSIGMA_CITE,
        terms="unknown",
        homepage=_HYPERSIGMA,
        how_to_get="not distributed publicly in the upstream repository",
        hypersigma="v1",
        related=("san_diego_htd",),
        notes="probably a San Diego airport crop (hypersigma.md 6); its crop differs from san_diego_htd here",
    )
)
register_dataset(
    DatasetInfo(
        name="renourban_htd",
        title="Renourban (HyperSIGMA journal version, target detection)",
        task="target_detection",
        sensor="unknown",
        height=None,
        width=None,
        bands=None,
        units="unknown",
        citation=_HYPERSIGMA_CITE,
        terms="unknown",
        homepage=_HYPERSIGMA,
        how_to_get="no public source identified",
        hypersigma="tpami",
    )
)

_SDT = "target_detection/san_diego/"
register_dataset(
    DatasetInfo(
        name="san_diego_htd",
        title="San Diego airport crop (target detection, 3 aircraft)",
        task="target_detection",
        sensor="AVIRIS",
        height=100,
        width=100,
        bands=189,
        files=(
            _shared(_SDT + "cut_1.mat", "sxt1996/EIRME", "cut_1.mat"),
            _shared(_SDT + "cut_1_target.mat", "sxt1996/EIRME", "cut_1_target.mat"),
        ),
        roles={
            "image": _r(_SDT + "cut_1.mat", "data", "hwc"),
            "label": _r(_SDT + "cut_1.mat", "map", "hw"),
            "target_spectrum": _r(_SDT + "cut_1_target.mat", "target", "vec"),
        },
        num_label_values=2,
        citation="as described in sxt1996/EIRME (doi:10.1109/TGRS.2021.3075583); AVIRIS (NASA JPL)",
        terms=_HS_TERMS,
        homepage="https://github.com/sxt1996/EIRME",
        how_to_get="present in the shared data",
        related=("aviris_htd", "san_diego_had"),
        notes="64 target pixels (22/22/20); target_spectrum in the same DN units as image",
    )
)
register_dataset(
    DatasetInfo(
        name="muufl_gulfport_htd",
        title="MUUFL Gulfport target-detection demo crop",
        task="target_detection",
        sensor="CASI-1500 (MUUFL Gulfport)",
        height=36,
        width=36,
        bands=72,
        files=(
            _shared(
                "target_detection/muufl_gulfport/an_hsi_img_for_tgt_det_demo.mat",
                "GatorSense/hsi_toolkit_py",
                "demos/an_hsi_img_for_tgt_det_demo.mat",
            ),
        ),
        roles={
            "image": _r("target_detection/muufl_gulfport/an_hsi_img_for_tgt_det_demo.mat", "hsi_sub", "hwc"),
            "label": _r("target_detection/muufl_gulfport/an_hsi_img_for_tgt_det_demo.mat", "gtImg_sub", "hw"),
            "target_spectrum": _r(
                "target_detection/muufl_gulfport/an_hsi_img_for_tgt_det_demo.mat", "tgt_spectra", "vec"
            ),
            "wavelengths": _r(
                "target_detection/muufl_gulfport/an_hsi_img_for_tgt_det_demo.mat", "wavelengths", "vec"
            ),
        },
        num_label_values=2,
        wavelength_range_nm=(367.7, 1043.4),
        units="reflectance",
        citation=(
            "P. Gader et al., 'MUUFL Gulfport Hyperspectral and LiDAR Airborne Data Set', Univ. Florida "
            "REP-2013-570, 2013; X. Du, A. Zare, Univ. Florida Tech. Rep. 20170417, 2017; A. Zare et al., "
            "GatorSense hsi_toolkit_py, doi:10.5281/zenodo.2638117"
        ),
        terms="hsi_toolkit_py is MIT; MUUFL data: cite both reports",
        homepage="https://github.com/GatorSense/hsi_toolkit_py",
        how_to_get="present in the shared data",
        related=("muufl_gulfport_unmixing",),
        notes="only 3 target pixels: a smoke-test scene, not a benchmark",
    )
)
_BB = "target_detection/belcher_bay/"
register_dataset(
    DatasetInfo(
        name="belcher_bay_htd",
        title="Belcher Bay, Hong Kong (GF-5 AHSI, ships)",
        task="target_detection",
        sensor="GF-5 AHSI (VNIR)",
        height=150,
        width=150,
        bands=150,
        files=(
            _shared(_BB + "Belcher.mat", "sxt1996/TD-PEPTE", "Belcher.mat"),
            _shared(_BB + "target.mat", "sxt1996/TD-PEPTE", "target.mat"),
        ),
        roles={
            "image": _r(_BB + "Belcher.mat", "data", "hwc"),
            "label": _r(_BB + "Belcher.mat", "map", "hw"),
            "target_spectrum": _r(_BB + "target.mat", "target", "vec"),
        },
        num_label_values=2,
        wavelength_range_nm=(390.0, 1030.0),
        citation="sxt1996/TD-PEPTE ('A Parameter-free Topological Disassembly-guided Method for Hyperspectral Target Detection')",
        terms=_HS_TERMS,
        homepage="https://github.com/sxt1996/TD-PEPTE",
        how_to_get="present in the shared data",
        notes="not in HyperSIGMA; target_spectrum is in [0, 0.61] while image is DN [3, 3535] (different scaling)",
    )
)

# --------------------------------------------------------------------------------------------------
# Anomaly detection
# --------------------------------------------------------------------------------------------------

register_dataset(
    DatasetInfo(
        name="pavia_had",
        title="Pavia Centre crop (HyperSIGMA anomaly detection, 108x120)",
        task="anomaly_detection",
        sensor="ROSIS-03",
        height=108,
        width=120,
        bands=102,
        files=(
            _absent(
                "anomaly_detection/pavia_108/Paiva_108_120_102_43.mat",
                arrays=(("hsi", (108, 120, 102), "unknown"), ("hsi_gt", (108, 120), "unknown")),
                note="upstream's own file name (sic 'Paiva'); keys assumed as in its Cri reader",
            ),
        ),
        roles={
            "image": _r("anomaly_detection/pavia_108/Paiva_108_120_102_43.mat", "hsi", "hwc"),
            "label": _r("anomaly_detection/pavia_108/Paiva_108_120_102_43.mat", "hsi_gt", "hw"),
        },
        num_label_values=2,
        citation=_HYPERSIGMA_CITE + "; GT-HAD (HAD literature)",
        terms="unknown",
        homepage=_HYPERSIGMA,
        how_to_get="not distributed in the upstream repository; see the GT-HAD data release",
        hypersigma="v1",
        related=("pavia_car_had",),
        notes="43 anomalous pixels per the upstream file name; pavia_car_had is a different 80x100 crop",
    )
)
register_dataset(
    DatasetInfo(
        name="cri_had",
        title="Cri (Nuance CRI, anomaly detection)",
        task="anomaly_detection",
        sensor="Nuance CRI",
        height=400,
        width=400,
        bands=46,
        files=(
            _absent(
                "anomaly_detection/cri/Nuance_Cri_400_400_46_1254.mat",
                arrays=(("hsi", (400, 400, 46), "unknown"), ("hsi_gt", (400, 400), "unknown")),
            ),
        ),
        roles={
            "image": _r("anomaly_detection/cri/Nuance_Cri_400_400_46_1254.mat", "hsi", "hwc"),
            "label": _r("anomaly_detection/cri/Nuance_Cri_400_400_46_1254.mat", "hsi_gt", "hw"),
        },
        num_label_values=2,
        citation=_HYPERSIGMA_CITE,
        terms="unknown",
        homepage=_HYPERSIGMA,
        how_to_get="not distributed in the upstream repository (HAD literature copies)",
        hypersigma="v1",
        notes="1,254 anomalous pixels per the upstream file name; keys hsi/hsi_gt as upstream reads them",
    )
)
register_dataset(
    DatasetInfo(
        name="viareggio_had",
        title="Viareggio 2013 trial (HyperSIGMA journal version)",
        task="anomaly_detection",
        sensor="SIM.GA",
        height=None,
        width=None,
        bands=None,
        units="unknown",
        citation=(
            "N. Acito et al., 'The Viareggio 2013 trial: a new dataset for hyperspectral anomaly and change "
            "detection', (unverified reference)"
        ),
        terms="distributed on request by the trial organisers (unverified)",
        homepage="http://rx-viareggio.ing.unipi.it/",
        how_to_get="request from the Viareggio 2013 trial page (address unverified)",
        hypersigma="tpami",
    )
)

_ABU_CITE = (
    "X. Kang, X. Zhang, S. Li, K. Li, J. Li, J. A. Benediktsson, 'Hyperspectral Anomaly Detection With "
    "Attribute and Edge-Preserving Filters', IEEE TGRS 55(10):5600-5611, 2017"
)
for _name, _file, _bands in (
    ("abu_airport_2", "abu-airport-2.mat", 205),
    ("abu_airport_4", "abu-airport-4.mat", 191),
    ("abu_urban_2", "abu-urban-2.mat", 207),
):
    _p = "anomaly_detection/abu/" + _file
    register_dataset(
        DatasetInfo(
            name=_name,
            title=f"ABU {_file[4:-4]} (Airport-Beach-Urban)",
            task="anomaly_detection",
            sensor="AVIRIS",
            height=100,
            width=100,
            bands=_bands,
            files=(_shared(_p, "quanyumath/LTD", "Data/ABU/" + _file),),
            roles={"image": _r(_p, "data", "hwc"), "label": _r(_p, "map", "hw")},
            num_label_values=2,
            citation=_ABU_CITE,
            terms=_HS_TERMS,
            homepage="http://xudongkang.weebly.com/data-sets.html",
            how_to_get="present in the shared data",
            notes="not in HyperSIGMA; DN as released (abu-urban-2 is int16 with small negative values)",
        )
    )
register_dataset(
    DatasetInfo(
        name="hydice_urban_had",
        title="HYDICE Urban anomaly crop (80x100, vehicles)",
        task="anomaly_detection",
        sensor="HYDICE",
        height=80,
        width=100,
        bands=175,
        files=(_shared("anomaly_detection/hydice_urban/HYDICE_urban.mat", "hzhdhz/CTA", "HYDICE_urban.mat"),),
        roles={
            "image": _r("anomaly_detection/hydice_urban/HYDICE_urban.mat", "hsi", "hwc"),
            "label": _r("anomaly_detection/hydice_urban/HYDICE_urban.mat", "hsi_gt", "hw"),
        },
        num_label_values=2,
        citation="HYDICE Urban, US Army Corps of Engineers (ERDC); sub-scene as used in the HAD literature",
        terms=_HS_TERMS,
        homepage="https://github.com/hzhdhz/CTA",
        how_to_get="present in the shared data",
        related=("urban",),
        notes="not in HyperSIGMA; 21 anomalous pixels",
    )
)
register_dataset(
    DatasetInfo(
        name="san_diego_had",
        title="San Diego airport crop (anomaly detection, 3 aircraft)",
        task="anomaly_detection",
        sensor="AVIRIS",
        height=100,
        width=100,
        bands=189,
        files=(
            _shared(
                "anomaly_detection/san_diego/sandiego_plane.mat",
                "xdjiangkai/LREN",
                "datasets/avirs/sandiego_plane.mat",
            ),
        ),
        roles={
            "image": _r("anomaly_detection/san_diego/sandiego_plane.mat", "data", "hwc"),
            "label": _r("anomaly_detection/san_diego/sandiego_plane.mat", "map", "hw"),
        },
        num_label_values=2,
        citation="K. Jiang et al., 'LREN: Low-Rank Embedded Network for Sample-Free Hyperspectral Anomaly Detection', AAAI 2021; "
        + _ABU_CITE,
        terms=_HS_TERMS,
        homepage="https://github.com/xdjiangkai/LREN",
        how_to_get="present in the shared data",
        related=("san_diego_htd",),
        notes="not in HyperSIGMA; 134 anomalous pixels",
    )
)
register_dataset(
    DatasetInfo(
        name="pavia_car_had",
        title="Pavia Centre crop (anomaly detection, 80x100, vehicles on a bridge)",
        task="anomaly_detection",
        sensor="ROSIS-03",
        height=80,
        width=100,
        bands=102,
        files=(_shared("anomaly_detection/pavia/pavia_car.mat", "FxyPd/DeCNNAD", "pavia_car.mat"),),
        roles={
            "image": _r("anomaly_detection/pavia/pavia_car.mat", "data", "hwc"),
            "label": _r("anomaly_detection/pavia/pavia_car.mat", "map", "hw"),
        },
        num_label_values=2,
        wavelength_range_nm=(430.0, 860.0),
        citation=(
            "X. Fu, S. Jia, L. Zhuang, M. Xu, J. Zhou, Q. Li, 'Hyperspectral Anomaly Detection via Deep "
            "Plug-and-Play Denoising CNN Regularization', IEEE TGRS 2021; ROSIS courtesy P. Gamba"
        ),
        terms=_HS_TERMS,
        homepage="https://github.com/FxyPd/DeCNNAD",
        how_to_get="present in the shared data",
        related=("pavia_had", "pavia_centre"),
        notes="a different crop from HyperSIGMA's 108x120 Pavia (pavia_had): never report it in that row",
    )
)

# --------------------------------------------------------------------------------------------------
# Change detection (hyperspectral)
# --------------------------------------------------------------------------------------------------

# Upstream CD maps: 1 = changed, 2 = unchanged, 0 = unknown (Farmland: 1 = unchanged, 2 = changed).
# Sample convention: label 1 = changed, 0 = unchanged, mask False = unknown (remap value -1).
_CD_12_0 = ((1, 1), (2, 0), (0, -1))
_CD_HOME = "https://github.com/WHU-Sigma/HyperSIGMA/tree/main/ChangeDetection"
_CD_HOWTO = (
    "upstream hosts the pairs on Baidu Drive only (see its ChangeDetection/Readme.md); place the files"
)
for _name, _title, _sensor, _shape, _f1, _k1, _f2, _k2, _fg, _kg, _remap, _cite in (
    (
        "hermiston",
        "Hermiston (Hyperion, 2004/2007)",
        "EO-1 Hyperion",
        (307, 241, 154),
        "Sa1.mat",
        "T1",
        "Sa2.mat",
        "T2",
        "SaGT.mat",
        "GT",
        _CD_12_0,
        "S. Liu, D. Marinelli, L. Bruzzone, F. Bovolo, 'A Review of Change Detection in Multitemporal "
        "Hyperspectral Images', IEEE GRSM 7(2):140-158, 2019",
    ),
    (
        "farmland",
        "Farmland / Yancheng (Hyperion, 2006/2007)",
        "EO-1 Hyperion",
        (450, 140, 155),
        "Farm1.mat",
        "imgh",
        "Farm2.mat",
        "imghl",
        "GTChina1.mat",
        "label",
        ((1, 0), (2, 1), (0, -1)),
        "Y. Yuan, H. Lv, X. Lu, 'Semi-supervised change detection method for multi-temporal hyperspectral "
        "images', Neurocomputing 148:363-375, 2015 (unverified attribution)",
    ),
    (
        "bay_area",
        "Bay Area (AVIRIS, 2013/2015)",
        "AVIRIS",
        (600, 500, 224),
        "BayArea.mat",
        "T1",
        "BayArea.mat",
        "T2",
        "BayArea.mat",
        "GT",
        _CD_12_0,
        "J. Lopez-Fandino et al., 'Stacked autoencoders for multiclass change detection in hyperspectral "
        "images', IGARSS 2018 (CiTIUS hyperspectral change detection datasets)",
    ),
    (
        "santa_barbara",
        "Santa Barbara (AVIRIS, 2013/2014)",
        "AVIRIS",
        (984, 740, 224),
        "Barbara.mat",
        "T1",
        "Barbara.mat",
        "T2",
        "Barbara.mat",
        "GT",
        _CD_12_0,
        "J. Lopez-Fandino et al., 'Stacked autoencoders for multiclass change detection in hyperspectral "
        "images', IGARSS 2018 (CiTIUS hyperspectral change detection datasets)",
    ),
):
    _dir = f"change_detection/{_name}/"
    _files: dict[str, FileSpec] = {}
    for _f, _k in ((_f1, _k1), (_f2, _k2), (_fg, _kg)):
        _files.setdefault(_dir + _f, _absent(_dir + _f, note="upstream file name; Baidu Drive only"))
    register_dataset(
        DatasetInfo(
            name=_name,
            title=_title,
            task="change_detection",
            sensor=_sensor,
            height=_shape[0],
            width=_shape[1],
            bands=_shape[2],
            files=tuple(_files.values()),
            roles={
                "image_pre": _r(_dir + _f1, _k1, "hwc"),
                "image_post": _r(_dir + _f2, _k2, "hwc"),
                "label": _r(_dir + _fg, _kg, "hw", remap=_remap, max_value=1),
            },
            num_label_values=2,
            citation=_cite + "; " + _HYPERSIGMA_CITE,
            terms="research use with citation (no formal licence known)",
            homepage=_CD_HOME,
            how_to_get=_CD_HOWTO,
            hypersigma="v1",
            related=("liu_irrigated_agricultural_area",)
            if _name == "hermiston"
            else (("liu_wetland_yancheng",) if _name == "farmland" else ()),
            notes=(
                "upstream label codes remapped on load (1 = changed, 0 = unchanged, mask False = unknown); "
                "sizes from upstream code (hypersigma.md 6; Bay Area / Santa Barbara sizes are literature values)"
            ),
        )
    )

_LIU_I = "change_detection/liu_irrigated_agricultural_area/"
_LIU_W = "change_detection/liu_wetland_yancheng/"
_LIU_CITE = (
    "S. Liu, D. Marinelli, L. Bruzzone, F. Bovolo, 'A Review of Change Detection in Multitemporal "
    "Hyperspectral Images', IEEE GRSM 7(2):140-158, 2019; S. Liu et al., Remote Sensing 9(10):1008, 2017"
)
register_dataset(
    DatasetInfo(
        name="liu_irrigated_agricultural_area",
        title="Irrigated agricultural area, Hermiston OR (Hyperion 2004/2007; Liu et al. crop)",
        task="change_detection",
        sensor="EO-1 Hyperion",
        height=225,
        width=180,
        bands=159,
        files=(
            _absent(_LIU_I + "PreImg_2004.mat", note="image pair: 10-200 MB, not obtained"),
            _absent(_LIU_I + "PostImg_2007.mat", note="image pair: 10-200 MB, not obtained"),
            _shared(
                _LIU_I + "Reference_Map_Binary.mat",
                "SicongLiuRS/Hyperspectral-Change-Detection-Dataset-Irrigated-Agricultural-Area",
                "Reference_Map_Binary.mat",
            ),
            _shared(
                _LIU_I + "Reference_Map_Multiclass.mat",
                "SicongLiuRS/Hyperspectral-Change-Detection-Dataset-Irrigated-Agricultural-Area",
                "Reference_Map_Multiclass.mat",
            ),
        ),
        roles={
            "label": _r(_LIU_I + "Reference_Map_Binary.mat", "Ref_map_binary", "hw", max_value=1),
            "label_multiclass": _r(
                _LIU_I + "Reference_Map_Multiclass.mat", "Ref_map_multiclass", "hw", max_value=7
            ),
        },
        num_label_values=2,
        citation=_LIU_CITE,
        terms="dataset repository asks for citation; no formal data licence",
        homepage="https://github.com/SicongLiuRS/Hyperspectral-Change-Detection-Dataset-Irrigated-Agricultural-Area",
        how_to_get="reference maps present; the image pair is on the dataset repository (large files)",
        related=("hermiston",),
        notes=(
            "a different crop from HyperSIGMA's Hermiston 307x241x154: never report it in that row. Multiclass "
            "map: 7 = no change, 1-6 = change types. The image pair's keys are unknown here, so no image "
            "roles are registered (only the maps load)."
        ),
    )
)
register_dataset(
    DatasetInfo(
        name="liu_wetland_yancheng",
        title="Wetland, Yancheng (Hyperion 2006/2007; Liu et al. crop)",
        task="change_detection",
        sensor="EO-1 Hyperion",
        height=430,
        width=220,
        bands=None,
        files=(
            _shared(
                _LIU_W + "Reference_Map_Binary.mat",
                "SicongLiuRS/Hyperspectral-Change-Detection-Dataset-Wetland-Area",
                "Reference_Map_Binary.mat",
            ),
            _shared(
                _LIU_W + "Reference_Map_Multiclass.mat",
                "SicongLiuRS/Hyperspectral-Change-Detection-Dataset-Wetland-Area",
                "Reference_Map_Multiclass.mat",
            ),
        ),
        roles={
            "label": _r(_LIU_W + "Reference_Map_Binary.mat", "Ref_map_binary", "hw", max_value=1),
            "label_multiclass": _r(
                _LIU_W + "Reference_Map_Multiclass.mat", "Ref_map_multiclass", "hw", max_value=5
            ),
        },
        num_label_values=2,
        citation=_LIU_CITE,
        terms="dataset repository asks for citation; no formal data licence",
        homepage="https://github.com/SicongLiuRS/Hyperspectral-Change-Detection-Dataset-Wetland-Area",
        how_to_get="reference maps present; the image pair is on the dataset repository (not registered: names unknown)",
        related=("farmland",),
        notes="Farmland/Yancheng family but a different crop (430x220) from HyperSIGMA's 450x140; 0 = no change",
    )
)

# --------------------------------------------------------------------------------------------------
# Unmixing
# --------------------------------------------------------------------------------------------------

_ZHU_CITE = (
    "F. Zhu, 'Hyperspectral Unmixing: Ground Truth Labeling, Datasets, Benchmark Performances and "
    "Survey', arXiv:1708.05125, 2017"
)
_UR = "unmixing/urban/"
register_dataset(
    DatasetInfo(
        name="urban",
        title="Urban (HYDICE, 162 bands, 4 endmembers)",
        task="unmixing",
        sensor="HYDICE",
        height=307,
        width=307,
        bands=162,
        files=(
            _absent(
                _UR + "Urban_R162.mat",
                urls=("https://rslab.ut.ac.ir/data",),
                status="unverified",
                source="F. Zhu's unmixing datasets (mirror pages)",
                arrays=(("Y", (162, 94249), "float64"),),
                note="Zhu's layout: Y bands x pixels (column-major); ~11 MB",
            ),
            _shared(
                _UR + "end4_groundTruth.mat", "HarlinLee/gtvMBO-public", "data/urban/end4_groundTruth.mat"
            ),
        ),
        roles={
            "image": _r(_UR + "Urban_R162.mat", "Y", "c_p"),
            "abundances": _r(_UR + "end4_groundTruth.mat", "A", "e_p"),
            "endmembers": _r(_UR + "end4_groundTruth.mat", "M", "ce"),
        },
        endmembers=("Asphalt Road", "Grass", "Tree", "Roof"),
        wavelength_range_nm=(400.0, 2500.0),
        units="as released (Zhu's Urban_R162 is scaled by its maxValue in many loaders; unverified)",
        citation=_ZHU_CITE + "; HYDICE Urban, US Army Corps of Engineers (ERDC)",
        terms=_HS_TERMS,
        homepage="https://rslab.ut.ac.ir/data",
        how_to_get="ground truth present; get Urban_R162.mat from Zhu's dataset pages (or upstream's Baidu/Google Drive)",
        hypersigma="v1",
        related=("hydice_urban_had",),
        notes=(
            "HyperSIGMA reads its own Urban_188_em4_init.mat (img_3d, endmember, abundance, init_em); "
            "the GT here is Zhu's end4 (abundances sum to 1 per pixel)"
        ),
    )
)
_JR = "unmixing/jasper_ridge/"
register_dataset(
    DatasetInfo(
        name="jasper_ridge",
        title="Jasper Ridge (AVIRIS, 198 bands, 4 endmembers)",
        task="unmixing",
        sensor="AVIRIS",
        height=100,
        width=100,
        bands=198,
        files=(
            _shared(
                _JR + "jasperRidge2_R198.mat", "HarlinLee/gtvMBO-public", "data/jasper/jasperRidge2_R198.mat"
            ),
            _shared(_JR + "end4.mat", "HarlinLee/gtvMBO-public", "data/jasper/end4.mat"),
        ),
        roles={
            "image": _r(_JR + "jasperRidge2_R198.mat", "Y", "c_p"),
            "abundances": _r(_JR + "end4.mat", "A", "e_p"),
            "endmembers": _r(_JR + "end4.mat", "M", "ce"),
            "band_indices": _r(_JR + "jasperRidge2_R198.mat", "SlectBands", "vec"),
        },
        endmembers=("Tree", "Water", "Dirt", "Road"),
        wavelength_range_nm=(380.0, 2500.0),
        scale=5000.0,
        units="reflectance-like: stored uint16 / maxValue (5000), as in Zhu's release",
        citation=_ZHU_CITE,
        terms=_HS_TERMS,
        homepage="https://rslab.ut.ac.ir/data",
        how_to_get="present in the shared data",
        notes=(
            "Y is bands x pixels in MATLAB column-major pixel order (checked on Moffett, whose file carries "
            "both layouts); band_indices = 1-based AVIRIS band numbers kept (of 224)"
        ),
    )
)
_SM = "unmixing/samson/"
register_dataset(
    DatasetInfo(
        name="samson",
        title="Samson (SAMSON sensor, 156 bands, 3 endmembers)",
        task="unmixing",
        sensor="SAMSON",
        height=95,
        width=95,
        bands=156,
        files=(
            _shared(_SM + "samson_1.mat", "HarlinLee/gtvMBO-public", "data/samson/samson_1.mat"),
            _shared(_SM + "end3.mat", "HarlinLee/gtvMBO-public", "data/samson/end3.mat"),
        ),
        roles={
            "image": _r(_SM + "samson_1.mat", "V", "c_p"),
            "abundances": _r(_SM + "end3.mat", "A", "e_p"),
            "endmembers": _r(_SM + "end3.mat", "M", "ce"),
        },
        endmembers=("Rock", "Tree", "Water"),
        wavelength_range_nm=(401.0, 889.0),
        units="normalised to [0, 1] as released",
        citation=_ZHU_CITE,
        terms=_HS_TERMS,
        homepage="https://rslab.ut.ac.ir/data",
        how_to_get="present in the shared data",
    )
)
register_dataset(
    DatasetInfo(
        name="moffett",
        title="Moffett Field crop (AVIRIS, 50x50, 3 endmembers)",
        task="unmixing",
        sensor="AVIRIS",
        height=50,
        width=50,
        bands=184,
        files=(
            _shared(
                "unmixing/moffett/moffett.mat", "UPCGIT/Hyperspectral-Unmixing-Models", "Datasets/moffett.mat"
            ),
        ),
        roles={
            "image": _r("unmixing/moffett/moffett.mat", "Y", "c_p"),
            "abundances": _r("unmixing/moffett/moffett.mat", "S_GT", "hwe"),
            "endmembers": _r("unmixing/moffett/moffett.mat", "GT", "ec"),
        },
        endmembers=("endmember 1", "endmember 2", "endmember 3"),
        units="normalised to [0, 1] as released",
        citation="AVIRIS Moffett Field (NASA JPL); reference abundances of UPCGIT/Hyperspectral-Unmixing-Models",
        terms=_HS_TERMS,
        homepage="https://github.com/UPCGIT/Hyperspectral-Unmixing-Models",
        how_to_get="present in the shared data",
        notes=(
            "reference abundances from that repository (undocumented provenance); the column-major pixel "
            "order of Y is confirmed by reconstructing Y from S_GT and GT"
        ),
    )
)
register_dataset(
    DatasetInfo(
        name="muufl_gulfport_unmixing",
        title="MUUFL Gulfport unmixing ROI (90x90, 64 bands, 5 endmembers)",
        task="unmixing",
        sensor="CASI-1500 (MUUFL Gulfport)",
        height=90,
        width=90,
        bands=64,
        files=(
            _shared(
                "unmixing/muufl_gulfport/muffle_dataset_130_90.mat",
                "UPCGIT/Hyperspectral-Unmixing-Models",
                "IEEE_TGRS_MUNet-main/data/muffle_dataset_130_90.mat",
            ),
        ),
        roles={
            "image": _r("unmixing/muufl_gulfport/muffle_dataset_130_90.mat", "Y", "hwc"),
            "abundances": _r("unmixing/muufl_gulfport/muffle_dataset_130_90.mat", "label", "hwe"),
            "endmembers": _r("unmixing/muufl_gulfport/muffle_dataset_130_90.mat", "M", "ce"),
            "dsm": _r("unmixing/muufl_gulfport/muffle_dataset_130_90.mat", "DSM", "hw"),
        },
        endmembers=tuple(f"endmember {i}" for i in range(1, 6)),
        units="normalised to [0, 1] as released",
        citation=(
            "Z. Han, D. Hong, L. Gao, J. Yao, B. Zhang, J. Chanussot, 'Multimodal Hyperspectral Unmixing: "
            "Insights from Attention Networks', IEEE TGRS 2022; P. Gader et al., MUUFL Gulfport, Univ. Florida "
            "REP-2013-570, 2013; X. Du, A. Zare, Tech. Rep. 20170417, 2017"
        ),
        terms="MUNet code GPL-3.0; MUUFL data: cite both reports",
        homepage="https://github.com/UPCGIT/Hyperspectral-Unmixing-Models",
        how_to_get="present in the shared data",
        related=("muufl_gulfport_htd",),
        notes="'label' of the file holds abundance-like maps (sum to 1); M1 (alternative endmembers) not exposed",
    )
)

# --------------------------------------------------------------------------------------------------
# Denoising
# --------------------------------------------------------------------------------------------------

register_dataset(
    DatasetInfo(
        name="washington_dc_mall",
        title="Washington DC Mall (HYDICE, 191 bands)",
        task="denoising",
        sensor="HYDICE",
        height=1208,
        width=307,
        bands=191,
        files=(
            _absent(
                "denoising/washington_dc_mall/dc.tif",
                urls=("https://engineering.purdue.edu/~biehl/MultiSpec/hyperspectral.html",),
                status="unverified",
                source="Purdue MultiSpec sample data",
                arrays=((None, (191, 1208, 307), "int16"),),
                note="the address is the MultiSpec page, not the file itself",
            ),
        ),
        roles={"image": _r("denoising/washington_dc_mall/dc.tif", None, "chw")},
        wavelength_range_nm=(400.0, 2400.0),
        citation="D. Landgrebe, Purdue MultiSpec (HYDICE Washington DC Mall); " + _HYPERSIGMA_CITE,
        terms="Purdue MultiSpec sample data: research/education use",
        homepage="https://engineering.purdue.edu/~biehl/MultiSpec/hyperspectral.html",
        how_to_get=(
            "get dc.tif from the Purdue MultiSpec page (or the processed version on Hugging Face "
            "datasets/WHU-Sigma/HyperSIGMA_Datasets) and place it"
        ),
        hypersigma="v1",
        notes="HyperSIGMA split: test rows 600:800 x cols 50:250; per-band quantile min-max per split",
    )
)
register_dataset(
    DatasetInfo(
        name="cave_chart_and_stuffed_toy",
        title="CAVE 'chart and stuffed toy' (256x256 crop, 31 bands)",
        task="denoising",
        sensor="CAVE (Columbia) multispectral camera",
        height=256,
        width=256,
        bands=31,
        files=(
            _shared(
                "denoising/cave/chart_and_stuffed_toy_ms_256.mat",
                "zhazhiyuan/NLSSR_Denoising_Demo",
                "Data/chart_and_stuffed_toy_ms_256.mat",
            ),
        ),
        roles={"image": _r("denoising/cave/chart_and_stuffed_toy_ms_256.mat", "NRD", "hwc")},
        wavelength_range_nm=(400.0, 700.0),
        wavelengths_nm=tuple(float(400 + 10 * i) for i in range(31)),
        scale=65535.0,
        units="relative radiance in [0, 1] (16-bit values / 65535)",
        citation=(
            "F. Yasuma, T. Mitsunaga, D. Iso, S. K. Nayar, 'Generalized Assorted Pixel Camera: Post-Capture "
            "Control of Resolution, Dynamic Range and Spectrum', IEEE TIP 19(9), 2010"
        ),
        terms="Columbia CAVE multispectral database: research use",
        homepage="https://www.cs.columbia.edu/CAVE/databases/multispectral/",
        how_to_get="present in the shared data",
        notes="not remote sensing; a clean reference cube for denoising/SR tests (natural scene, like ICVL)",
    )
)
register_dataset(
    DatasetInfo(
        name="aviris_gatorsense",
        title="AVIRIS reflectance crop (GatorSense spectral-index demo, 90x90, 224 bands)",
        task="denoising",
        sensor="AVIRIS",
        height=90,
        width=90,
        bands=224,
        files=(
            _shared(
                "denoising/aviris_gatorsense_vi_demo/a_hsi_img_for_VI_demo.mat",
                "GatorSense/hsi_toolkit_py",
                "demos/a_hsi_img_for_VI_demo.mat",
            ),
        ),
        roles={
            "image": _r("denoising/aviris_gatorsense_vi_demo/a_hsi_img_for_VI_demo.mat", "hsi_img", "hwc"),
            "wavelengths": _r(
                "denoising/aviris_gatorsense_vi_demo/a_hsi_img_for_VI_demo.mat", "wavelengths", "vec"
            ),
        },
        wavelength_range_nm=(365.9, 2496.2),
        scale=10000.0,
        units="reflectance (stored x 10,000)",
        citation="A. Zare et al., GatorSense hsi_toolkit_py, doi:10.5281/zenodo.2638117",
        terms="hsi_toolkit_py is MIT; AVIRIS data NASA JPL",
        homepage="https://github.com/GatorSense/hsi_toolkit_py",
        how_to_get="present in the shared data",
        notes=(
            "bands 1-2, 97-116, 154-171, 222-224 (1-based) are ~0 in the product (water/edge bands): the "
            "loader leaves them; drop them (band_mask) before use as a clean cube. Location unknown."
        ),
    )
)
register_dataset(
    DatasetInfo(
        name="simulated_indian_pines",
        title="SIMULATED Indian Pines (LRTV/E3DTV denoising demo, noise-free)",
        task="denoising",
        sensor="simulated (from AVIRIS Indian Pines spectra)",
        height=145,
        width=145,
        bands=224,
        files=(
            _shared(
                "denoising/simulated_indian_pines/simu_indian.mat",
                "chy0926/Provable-Tensor-Robust-Principal-Component-Analysis-via-Adaptive-Convex-Concave-Regularization",
                "competing methods/TRPCA/E3DTV/Denoising/Enhanced3DTV/simu_indian.mat",
            ),
        ),
        roles={"image": _r("denoising/simulated_indian_pines/simu_indian.mat", "simu_indian", "hwc")},
        units="simulated, in [0, 1]",
        citation=(
            "W. He, H. Zhang, L. Zhang, H. Shen, 'Total-Variation-Regularized Low-Rank Matrix Factorization "
            "for Hyperspectral Image Restoration', IEEE TGRS 54(1):178-188, 2016"
        ),
        terms=_HS_TERMS,
        homepage="https://github.com/chy0926/Provable-Tensor-Robust-Principal-Component-Analysis-via-Adaptive-Convex-Concave-Regularization",
        how_to_get="present in the shared data",
        synthetic=True,
        related=("indian_pines",),
        notes="NOT real imagery: a simulated clean cube distributed with denoising demo code",
    )
)

# --------------------------------------------------------------------------------------------------
# Super-resolution
# --------------------------------------------------------------------------------------------------

register_dataset(
    DatasetInfo(
        name="houston2018",
        title="Houston 2018 (GRSS DFC 2018, 48 bands)",
        task="super_resolution",
        sensor="ITRES CASI-1500",
        height=601,
        width=2384,
        bands=48,
        files=(
            _absent(
                "super_resolution/houston2018/20170218_UH_CASI_S4_NAD83.tiff",
                urls=("https://hyperspectral.ee.uh.edu/?page_id=1075",),
                status="unverified",
                source="2018 IEEE GRSS Data Fusion Contest (registration)",
                note="file name of the DFC 2018 release unverified; HyperSIGMA's preprocessed crops are on Hugging Face",
            ),
        ),
        roles={"image": _r("super_resolution/houston2018/20170218_UH_CASI_S4_NAD83.tiff", None, "chw")},
        wavelength_range_nm=(380.0, 1050.0),
        units="as released",
        citation=(
            "B. Le Saux et al., '2018 IEEE GRSS Data Fusion Contest: Multimodal Land Use Classification', "
            "IEEE GRSM 6(1):52-54, 2018; " + _HYPERSIGMA_CITE
        ),
        terms="GRSS DFC 2018 terms: research use with acknowledgement",
        homepage="https://hyperspectral.ee.uh.edu/?page_id=1075",
        how_to_get=(
            "request DFC 2018 from the GRSS / University of Houston, or use upstream's crops "
            "(Hugging Face datasets/WHU-Sigma/HyperSIGMA_Datasets, HyperSIGMA_super-resolution)"
        ),
        hypersigma="v1",
        notes="HyperSIGMA: 8 test crops 256x256x48 from the top region; LR by bicubic x4/x8 (issue #11)",
    )
)
_PAR = "super_resolution/paris_eo1/"
_PAR_CITE = (
    "M. Simoes, J. Bioucas-Dias, L. B. Almeida, J. Chanussot, 'A convex formulation for hyperspectral "
    "image superresolution via subspace-based regularization', IEEE TGRS 53(6):3373-3388, 2015"
)
register_dataset(
    DatasetInfo(
        name="paris_eo1_hs_ms",
        title="Paris EO-1 Hyperion + ALI multispectral (HySure dataset C)",
        task="super_resolution",
        sensor="EO-1 Hyperion + ALI",
        height=72,
        width=72,
        bands=128,
        files=(_shared(_PAR + "paris_data_hs_ms.mat", "alfaiate/HySure", "data/paris_data_hs_ms.mat"),),
        roles={
            "image": _r(_PAR + "paris_data_hs_ms.mat", "HSim", "hwc"),
            "image_ms": _r(_PAR + "paris_data_hs_ms.mat", "MSim", "hwc"),
            "band_indices": _r(_PAR + "paris_data_hs_ms.mat", "non_del_bands", "vec"),
        },
        units="reflectance-like (as released)",
        citation=_PAR_CITE,
        terms="HySure code GPL-3.0; EO-1 data USGS public domain",
        homepage="https://github.com/alfaiate/HySure",
        how_to_get="present in the shared data",
        related=("paris_eo1_hs_pan",),
        notes="image_ms is on the same 30 m grid; band_indices = kept Hyperion bands (1-based as stored)",
    )
)
register_dataset(
    DatasetInfo(
        name="paris_eo1_hs_pan",
        title="Paris EO-1 Hyperion + ALI panchromatic (HySure dataset C)",
        task="super_resolution",
        sensor="EO-1 Hyperion + ALI",
        height=72,
        width=58,
        bands=128,
        files=(_shared(_PAR + "paris_data_hs_pan.mat", "alfaiate/HySure", "data/paris_data_hs_pan.mat"),),
        roles={
            "image": _r(_PAR + "paris_data_hs_pan.mat", "HSim", "hwc"),
            "image_pan": _r(_PAR + "paris_data_hs_pan.mat", "PCim", "hw"),
            "band_indices": _r(_PAR + "paris_data_hs_pan.mat", "non_del_bands", "vec"),
        },
        units="reflectance-like (as released)",
        citation=_PAR_CITE,
        terms="HySure code GPL-3.0; EO-1 data USGS public domain",
        homepage="https://github.com/alfaiate/HySure",
        how_to_get="present in the shared data",
        related=("paris_eo1_hs_ms",),
        notes="image_pan is 216x174 (3x the HS grid); a true-resolution pair without a reference",
    )
)
register_dataset(
    DatasetInfo(
        name="ikonos_spectral_response",
        title="IKONOS spectral response functions (auxiliary)",
        task="auxiliary",
        sensor="IKONOS",
        height=None,
        width=None,
        bands=None,
        files=(
            _shared(
                "super_resolution/sensor_response/ikonos_spec_resp.mat",
                "alfaiate/HySure",
                "data/ikonos_spec_resp.mat",
            ),
        ),
        roles={"response": _r("super_resolution/sensor_response/ikonos_spec_resp.mat", "ikonos_sp", "hw")},
        wavelength_range_nm=(350.0, 1035.0),
        units="normalised response",
        citation=_PAR_CITE,
        terms="HySure code GPL-3.0",
        homepage="https://github.com/alfaiate/HySure",
        how_to_get="present in the shared data",
        notes="138x6: column 0 wavelength (nm, 5 nm steps), columns 1-5 PAN, blue, green, red, NIR",
    )
)

# --------------------------------------------------------------------------------------------------
# Multispectral change detection
# --------------------------------------------------------------------------------------------------

register_dataset(
    DatasetInfo(
        name="oscd",
        title="OSCD (Onera Satellite Change Detection, Sentinel-2)",
        task="multispectral_change_detection",
        sensor="Sentinel-2 MSI",
        height=None,
        width=None,
        bands=13,
        files=(
            _absent(
                "multispectral_change_detection/oscd/Onera Satellite Change Detection dataset - Images.zip",
                urls=("https://rcdaudt.github.io/oscd/",),
                status="unverified",
                source="R. C. Daudt (IEEE DataPort mirror)",
                note="the address is the dataset page; 24 city pairs (~600x600), 14 train / 10 test",
            ),
        ),
        citation=(
            "R. C. Daudt, B. Le Saux, A. Boulch, Y. Gousseau, 'Urban Change Detection for Multispectral Earth "
            "Observation Using Convolutional Neural Networks', IGARSS 2018"
        ),
        terms="OSCD: Copernicus Sentinel data; labels CC BY-NC-SA 4.0 (per the dataset page; unverified here)",
        homepage="https://rcdaudt.github.io/oscd/",
        how_to_get="download OSCD from its page / IEEE DataPort (not loadable by hs-data yet: a per-city folder layout)",
        hypersigma="v1",
        notes=(
            "per-city images are not wired into load_scene (multi-scene dataset); the official split is "
            "train = aguasclaras, bercy, bordeaux, nantes, paris, rennes, saclay_e, abudhabi, cupertino, pisa, "
            "beihai, hongkong, beirut, mumbai; test = the other 10 cities"
        ),
    )
)
_NJ = "multispectral_change_detection/nanjing/"
_NJ_REPO = "chenpan0615/ChangeDetectionRepository-master"
register_dataset(
    DatasetInfo(
        name="nanjing",
        title="Nanjing (Landsat-5 TM, 2000/2002, 6 bands)",
        task="multispectral_change_detection",
        sensor="Landsat-5 TM",
        height=800,
        width=800,
        bands=6,
        files=(
            _shared(
                _NJ + "LT51200382000124BJC00_Nanjing",
                _NJ_REPO,
                "Dataset/Landsat/Nanjing/LT51200382000124BJC00_Nanjing",
            ),
            _shared(
                _NJ + "LT51200382000124BJC00_Nanjing.hdr",
                _NJ_REPO,
                "Dataset/Landsat/Nanjing/LT51200382000124BJC00_Nanjing.hdr",
            ),
            _shared(
                _NJ + "LT51200382002193BJC00_Nanjing",
                _NJ_REPO,
                "Dataset/Landsat/Nanjing/LT51200382002193BJC00_Nanjing",
            ),
            _shared(
                _NJ + "LT51200382002193BJC00_Nanjing.hdr",
                _NJ_REPO,
                "Dataset/Landsat/Nanjing/LT51200382002193BJC00_Nanjing.hdr",
            ),
            _shared(_NJ + "change.bmp", _NJ_REPO, "Dataset/Landsat/Nanjing/change.bmp"),
            _shared(_NJ + "unchanged.bmp", _NJ_REPO, "Dataset/Landsat/Nanjing/unchanged.bmp"),
        ),
        roles={
            "image_pre": _r(_NJ + "LT51200382000124BJC00_Nanjing", None, "chw"),
            "image_post": _r(_NJ + "LT51200382002193BJC00_Nanjing", None, "chw"),
            "changed_mask": _r(_NJ + "change.bmp", None, "mask255"),
            "unchanged_mask": _r(_NJ + "unchanged.bmp", None, "mask255"),
        },
        num_label_values=2,
        wavelengths_nm=(485.0, 569.0, 660.0, 840.0, 1676.0, 2223.0),
        wavelength_range_nm=(450.0, 2350.0),
        units="DN (uint8)",
        citation=(
            "C. Wu, B. Du, L. Zhang, 'Slow feature analysis for change detection in multispectral imagery', "
            "IEEE TGRS 52(5):2858-2874, 2014; B. Du, L. Ru, C. Wu, L. Zhang, IEEE TGRS 57(12):9976-9992, 2019"
        ),
        terms="repository MIT licence text; Landsat imagery USGS public domain",
        homepage="https://github.com/ChenHongruixuan/ChangeDetectionRepository",
        how_to_get="present in the shared data",
        notes=(
            "partial reference: label 1 = changed (2,363 px), 0 = unchanged (12,393 px), mask False elsewhere; "
            "the ENVI .hdr files travel with the rasters (the wavelengths are those of the headers)"
        ),
    )
)

# --------------------------------------------------------------------------------------------------
# Semi-synthetic scenes (built from the real cubes above; flagged synthetic)
# --------------------------------------------------------------------------------------------------

from hs_data.synthetic.scenes import _register as _register_semisynthetic  # noqa: E402

_register_semisynthetic()
