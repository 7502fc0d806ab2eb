# ruff: noqa: E501  (generated data table: one file per line)
"""The files of the project's shared data folder, as recorded in its MANIFEST.md / SHA256SUMS.

``path -> (sha256, bytes, ((key, stored shape, stored dtype), ...))``. Generated once from the folder
itself (scipy.io.whosmat / loadmat, tifffile, the ENVI headers) and checked against it by
``tests/test_real_files.py`` whenever ``HS_DATA_ROOT`` is set.
"""

from __future__ import annotations

# fmt: off
_SHARED: dict[str, tuple[str, int, tuple[tuple[str | None, tuple[int, ...], str], ...]]] = {
    "anomaly_detection/abu/abu-airport-2.mat": ("7121476e700001e76191d6ee6bc6f2d5f680c0fe49186b61a57f10fcac7718b9", 2802536, (('data', (100, 100, 205), 'uint16'), ('map', (100, 100), 'uint8'))),
    "anomaly_detection/abu/abu-airport-4.mat": ("c10cb987f0a75ad5834da2be35e2cfe740660fd9094521dd6d047de535a2a72b", 2570267, (('data', (100, 100, 191), 'uint16'), ('map', (100, 100), 'uint8'))),
    "anomaly_detection/abu/abu-urban-2.mat": ("ed900cbde844582dd51943f920eac47c3a4e7f4cf3e0ae7612fdfb80b7ee7807", 2678487, (('data', (100, 100, 207), 'int16'), ('map', (100, 100), 'uint8'))),
    "anomaly_detection/hydice_urban/HYDICE_urban.mat": ("012dd1404fedeebdc28a8394297e896a019ea17ed72da001981c3f7ac60056fa", 1603819, (('hsi', (80, 100, 175), 'uint16'), ('hsi_gt', (80, 100), 'uint8'))),
    "anomaly_detection/pavia/pavia_car.mat": ("38ff698e3235e8d24625906a30c93770137b79f17954a1a286aca8382f40d123", 1069575, (('data', (80, 100, 102), 'uint16'), ('map', (80, 100), 'uint8'))),
    "anomaly_detection/san_diego/sandiego_plane.mat": ("9800a9fbd9d043c46171b14c5ef1077f57be287ccf3a61198cc1746b6217d2cb", 2945758, (('map', (100, 100), 'uint8'), ('data', (100, 100, 189), 'uint16'))),
    "change_detection/liu_irrigated_agricultural_area/Reference_Map_Binary.mat": ("ad15e98cada5d628628668b3f1c1bd024e6525253dccdcf1306dab69081972c3", 1633, (('Ref_map_binary', (225, 180), 'uint8'),)),
    "change_detection/liu_irrigated_agricultural_area/Reference_Map_Multiclass.mat": ("20109c5892abcff26a3e241dbe11ccccdb91db0779eab4d7b648d6e0b075ee6f", 1910, (('Ref_map_multiclass', (225, 180), 'uint8'),)),
    "change_detection/liu_wetland_yancheng/Reference_Map_Binary.mat": ("4b1159a0d20becd43a2af6e859a2e170d51225dd09da9588ce0988f632235165", 3742, (('Ref_map_binary', (430, 220), 'uint8'),)),
    "change_detection/liu_wetland_yancheng/Reference_Map_Multiclass.mat": ("d479a2adc21dc68bcd4fa4bb2346c07205a5ca28bc23c9249e9b53b527148c34", 3942, (('Ref_map_multiclass', (430, 220), 'uint8'),)),
    "classification/botswana/Botswana_gt.mat": ("668394905e10e629c16584bfd02b0f533b96d6ba18a63274a94ff3a77126a887", 4039, (('Botswana_gt', (1476, 256), 'uint8'),)),
    "classification/houston2013/houston_gt.mat": ("ebe2438dcc6526bcbb63b5b98009f88de2b8c4a40b5d4c2b2bcd91808aa4e76f", 1329968, (('houston_gt_tr', (349, 1905), 'uint8'), ('houston_gt_te', (349, 1905), 'uint8'))),
    "classification/indian_pines/19920612_AVIRIS_IndianPine_Site3_gr.tif": ("363b829406adbe953235c253bb20c63b8ad76a8ac62c00443cdf0c9eee45c3c5", 22871, ((None, (145, 145), 'uint8'),)),
    "classification/indian_pines/Indian_pines_gt.mat": ("65c4687a8ab04f6da4789799bc3bc4f6e88bccac3ed6a2e6ae367e5e6b9e429c", 1125, (('indian_pines_gt', (145, 145), 'uint8'),)),
    "classification/indian_pines/indianpines_disjoint_dset.mat": ("430c37ce56a160d410378aa136e5e696e2436e2fe03e275f306c3502f622e77b", 21248, (('indianpines_disjoint_dset', (145, 145), 'uint8'),)),
    "classification/ksc/KSC_gt.mat": ("a1d6ab9293691006bd4d9742d1a1e1c141b1aaa5fbc5fa128b33c1d09038510b", 3240, (('KSC_gt', (512, 614), 'uint8'),)),
    "classification/pavia_centre/Pavia_gt.mat": ("7eb54ab81b404dd3ae572e6d0ec211595029e5a847bec2cfb8f9e72d07066b69", 34887, (('pavia_gt', (1096, 715), 'uint8'),)),
    "classification/pavia_university/PaviaU_gt.mat": ("23f6a426928f9b32984adffe659e29f554f9fb6c93b5a107528d308d5087a829", 11005, (('paviaU_gt', (610, 340), 'uint8'),)),
    "classification/pavia_university/TRpavia_fixed.mat": ("9eb125761f65b562f4b33c48af45131c9bdf26cb5eaa50cecf744873033a063b", 2379, (('TRpavia_fixed', (610, 340), 'uint8'),)),
    "classification/pavia_university/TSpavia_fixed.mat": ("da9aa60e63079f2743fe9c435e00ed88a7fb2d7171c8cce7a18a6d2faab12e4e", 11167, (('TSpavia_fixed', (610, 340), 'uint8'),)),
    "classification/salinas/Salinas_gt.mat": ("ecfab4d31ef5553f097943235d8ea502038eb4a2067b2ad10b33e37c949955e2", 4277, (('salinas_gt', (512, 217), 'uint8'),)),
    "classification/salinas_a/SalinasA_corrected.mat": ("d75684ed3ab71a1024cee0f9db9061f50a3523a92ff5edfbbb1eed976b9f1721", 1539086, (('salinasA_corrected', (83, 86, 204), 'int16'),)),
    "classification/salinas_a/SalinasA_gt.mat": ("17814c1d3296c0e29b27f320f2c4174d2a68adb87e376abe78f02923e2c2e454", 587, (('salinasA_gt', (83, 86), 'uint8'),)),
    "denoising/aviris_gatorsense_vi_demo/a_hsi_img_for_VI_demo.mat": ("ea49881e412413604eed0c0342c58ea58b9d9c4027087f9e4069183d5027cc0c", 2335001, (('hsi_img', (90, 90, 224), 'int16'), ('wavelengths', (224, 1), 'float64'))),
    "denoising/cave/chart_and_stuffed_toy_ms_256.mat": ("3f4ba116e1a07e9ff51364a5910c745e1f87cb6cdaef55ab2e8820fa81fe1bfa", 3578854, (('NRD', (256, 256, 31), 'uint16'),)),
    "denoising/simulated_indian_pines/simu_indian.mat": ("a0a6c8f8ee891d177a0374281e8269e610e64b4ab74119a4e0d64639efde9e2d", 758302, (('simu_indian', (145, 145, 224), 'float64'),)),
    "multispectral_change_detection/nanjing/LT51200382000124BJC00_Nanjing": ("a5b291135b885555471bdf0734337c787daa7e96ba48da3e14b0407833daddd5", 3840000, ((None, (6, 800, 800), 'uint8'),)),
    "multispectral_change_detection/nanjing/LT51200382000124BJC00_Nanjing.hdr": ("0a21521caa56816859f39e336d2391e4e797beedd4949b247a08b7a5d233943c", 1337, ()),
    "multispectral_change_detection/nanjing/LT51200382002193BJC00_Nanjing": ("22699ebc1eaf78b69c5cd2933fb8aa939cd62ff522b2f06c0d78881c26664cec", 3840000, ((None, (6, 800, 800), 'uint8'),)),
    "multispectral_change_detection/nanjing/LT51200382002193BJC00_Nanjing.hdr": ("1fdec081d147f429d7bd40a07023776331db868395c21b6fb2bab57b82c8c8b6", 1337, ()),
    "multispectral_change_detection/nanjing/change.bmp": ("0cd25820bca24eadb0b41439e4bb7f43384a3cb3b8636bd750d463b173f955e2", 641078, ((None, (800, 800), 'uint8'),)),
    "multispectral_change_detection/nanjing/unchanged.bmp": ("0ebe49c3783c314698101451a0e9340abe24b1676aa4f650726d534544182885", 641078, ((None, (800, 800), 'uint8'),)),
    "super_resolution/paris_eo1/paris_data_hs_ms.mat": ("81e13528535ff32a0e0069368daa3aa9206d1393317391571a29958f5f57d839", 2899131, (('non_del_bands', (1, 128), 'uint8'), ('HSim', (72, 72, 128), 'float64'), ('MSim', (72, 72, 9), 'float64'))),
    "super_resolution/paris_eo1/paris_data_hs_pan.mat": ("238baead1beab1c79da7d767ce5bc7f00ec4a7eb1380875fd9a28e6d0ab37837", 2362945, (('non_del_bands', (1, 128), 'uint8'), ('PCim', (216, 174), 'float64'), ('HSim', (72, 58, 128), 'float64'))),
    "super_resolution/sensor_response/ikonos_spec_resp.mat": ("039b5db00616eced50e41a6232b0b5a3e672e98efba0a90357b6e206030cfb17", 5749, (('ikonos_sp', (138, 6), 'float64'),)),
    "target_detection/belcher_bay/Belcher.mat": ("b8227b1487c9a17d0e79765bcdd7da92b957d339cb0b387d14c38d9b3623961e", 3759434, (('data', (150, 150, 150), 'uint16'), ('map', (150, 150), 'uint8'))),
    "target_detection/belcher_bay/target.mat": ("0146e1462b2ab67c388cb64a2e15ec8aef5e52260851f26cd6bdc912e7b57f29", 1195, (('target', (150, 1), 'float64'),)),
    "target_detection/muufl_gulfport/an_hsi_img_for_tgt_det_demo.mat": ("916cac91baeca5a5c2ca102ab18eaf74ec92b928a9a0703b99f4738295b6ccd5", 303183, (('gtImg_sub', (36, 36), 'uint8'), ('hsi_sub', (36, 36, 72), 'float32'), ('tgt_spectra', (72, 1), 'float32'), ('wavelengths', (72, 1), 'float64'))),
    "target_detection/san_diego/cut_1.mat": ("c72401fd1a36c01a7ebd1ea9bc502b1a7ca25f059e2babc5bffa4bebf9bfa62c", 2790519, (('data', (100, 100, 189), 'uint16'), ('map', (100, 100), 'uint8'))),
    "target_detection/san_diego/cut_1_target.mat": ("2d134c7be90de5a6a731473b1f42907f2ab181ea40906ab6f947925a1a005b84", 550, (('target', (189, 1), 'uint16'),)),
    "unmixing/jasper_ridge/end4.mat": ("92f5697b43705802b904fd13ba99b6ce65a3d203682864abc3fbec922beec374", 178271, (('M', (198, 4), 'float64'), ('A', (4, 10000), 'float64'))),
    "unmixing/jasper_ridge/jasperRidge2_R198.mat": ("0e4118a6452f6044978a8ca3762fb0f791115467904936d463c4e111e56e682e", 2987224, (('SlectBands', (198, 1), 'uint8'), ('nRow', (1, 1), 'uint8'), ('nCol', (1, 1), 'uint8'), ('nBand', (1, 1), 'uint8'), ('Y', (198, 10000), 'uint16'), ('maxValue', (1, 1), 'uint16'))),
    "unmixing/moffett/moffett.mat": ("1fc5875512af3d87a511a9ad8795b03f3785a834d75442edf07fa31332795567", 1155180, (('GT', (3, 184), 'float64'), ('S_GT', (50, 50, 3), 'float64'), ('Y', (184, 2500), 'float64'), ('cols', (1, 1), 'uint8'), ('lines', (1, 1), 'uint8'))),
    "unmixing/muufl_gulfport/muffle_dataset_130_90.mat": ("207a19630faf445eccc403f3ccea0e85d898f8458200d225b34e618372cbf3cd", 3880526, (('DSM', (90, 90), 'float64'), ('M', (64, 5), 'float64'), ('M1', (64, 5), 'float64'), ('MPN', (90, 90, 5), 'float64'), ('Y', (90, 90, 64), 'float64'), ('label', (90, 90, 5), 'float64'))),
    "unmixing/samson/end3.mat": ("ce768182ce5292390180f827ff5769112cf3d299f4e64ab43e950a310b7ec9fa", 134259, (('A', (3, 9025), 'float64'), ('M', (156, 3), 'float64'))),
    "unmixing/samson/samson_1.mat": ("1ebacaf7cd32bfc31c0ee3fd56c63a7f29a434893a8b45705fb59cd8a0c8beb6", 3604014, (('nRow', (1, 1), 'uint8'), ('nCol', (1, 1), 'uint8'), ('nBand', (1, 1), 'uint8'), ('V', (156, 9025), 'float64'))),
    "unmixing/urban/end4_groundTruth.mat": ("23460f3d4fd4523e2221c8f1895b0bedf0814e88a5a50b1fc6e8e4a0e6b2b2d2", 1948588, (('A', (4, 94249), 'float64'), ('M', (162, 4), 'float64'), ('nEnd', (1, 1), 'uint8'), ('nRow', (1, 1), 'uint16'), ('nCol', (1, 1), 'uint16'))),
}
# fmt: on
