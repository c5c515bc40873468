<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>LandFuse</name>
    <message>
        <location filename="../plugin/algorithms/assess.py"/>
        <source>Assesses a land-cover map against reference data you labelled, with the estimators of good practice (Olofsson et al. 2014, Remote Sensing of Environment 148: 42-57).

&lt;b&gt;Class map&lt;/b&gt;: a LandFuse class map (its classes are named) or any raster of class ids.
&lt;b&gt;Reference features&lt;/b&gt;: points (e.g. from "Create a stratified random sample", labelled by you) or polygons; tick &lt;i&gt;Selected features only&lt;/i&gt; to use the selection. &lt;b&gt;Class field&lt;/b&gt;: the true class, as the map's class name (Water = water; spaces as underscores) or class id.
&lt;b&gt;Stratified random sample&lt;/b&gt;: the points were drawn at random within each map class (as the sampler does). The error matrix is then weighted by the mapped area of each class, which gives unbiased overall, user's and producer's accuracy with their standard errors, and each class's area with a 95 % confidence interval. Untick it for points drawn any other way. Polygons are scored pixel by pixel, without area estimates (pixels of one polygon are not independent).

Outputs: the &lt;b&gt;assessment&lt;/b&gt; (JSON: confusion matrix, overall accuracy, kappa, per-class user's and producer's accuracy, IoU and F1, area estimates; "Explain a land-cover report" takes it as its metrics), an &lt;b&gt;HTML report&lt;/b&gt;, a &lt;b&gt;figure&lt;/b&gt; (PNG: error matrix and class areas) and, as numbers for the modeler, the overall accuracy with its standard error and kappa.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/assess.py"/>
        <source>Assess accuracy and estimate areas</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>land cover</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>classification</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>Land cover</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>SAR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>optical</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>fusion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>segmentation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>deep learning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>cloud</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>batch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>many scenes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>explanation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>language model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>accuracy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>assessment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>validation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>confusion matrix</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>kappa</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>reference labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>reference data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>polygons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>samples</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>area estimate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>confidence interval</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>sampling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>stratified random sample</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py"/>
        <source>points</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py"/>
        <source>Classifies many optical + SAR scene pairs with one model, on a Ray cluster: by default a local one started for the run (one worker per GPU, else one per CPU core), or an existing cluster given by its address. Each worker keeps the model loaded and classifies one scene at a time.

&lt;b&gt;Scenes&lt;/b&gt;, give one of: a &lt;b&gt;scene table&lt;/b&gt; (CSV with columns name, optical, sar and optionally optical_bands, sar_bands; relative paths are relative to the table), a &lt;b&gt;scene folder&lt;/b&gt; (one sub-folder per scene holding optical.tif and/or sar.tif) or a &lt;b&gt;footprint layer&lt;/b&gt; whose features carry the file paths in the chosen fields.
&lt;b&gt;Model&lt;/b&gt;, &lt;b&gt;Model file&lt;/b&gt;, &lt;b&gt;Device&lt;/b&gt;, tile size, overlap and batch size: as for Classify land cover.
&lt;b&gt;Confidence maps&lt;/b&gt;: also write each scene's confidence map.
&lt;b&gt;Block size&lt;/b&gt; (advanced): split every scene into blocks of this many pixels (a multiple of 256) that the workers classify in parallel; the assembled map equals an unsplit run. For mosaics too large for one machine.
&lt;b&gt;Cluster address&lt;/b&gt; (advanced): e.g. ray://head:10001; every node needs the LandFuse backend environment and must reach the input and output paths. &lt;b&gt;Workers&lt;/b&gt; (advanced): how many to start.

Results in the &lt;b&gt;output folder&lt;/b&gt;: one sub-folder per scene (landcover.tif with its style, confidence.tif, report.json), batch-report.json (class areas summed over the scenes and one row per scene with its state and error code), mosaic.vrt (the class maps with the class style) and, when asked, explanation.md. A scene that fails is reported with its error code and does not stop the others. Running the algorithm again with the same output folder skips the finished scenes and retries the others; Cancel keeps the finished scenes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py"/>
        <source>Classify many scenes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/classify.py"/>
        <source>Classifies land cover from an optical raster (e.g. Sentinel-2) and a SAR raster (e.g. Sentinel-1) with a LandFuse fusion model, in the LandFuse backend process (GPU when available, else CPU).

&lt;b&gt;Optical layer&lt;/b&gt;, &lt;b&gt;SAR layer&lt;/b&gt;: rasters GDAL opens (files, zip archives, cloud storage, GeoPackage tables, NetCDF/HDF5 subdatasets, VRT); web services and databases must be exported first. They may differ in CRS and resolution: the SAR raster is resampled onto the optical grid (or onto the target grid below).
&lt;b&gt;Optical bands&lt;/b&gt;, &lt;b&gt;SAR bands&lt;/b&gt;: the bands to feed the model, in the order of the model card (1-based). Leave empty to use the bands whose names (band descriptions) match the model card's, or all bands when they have no names and their number matches the model.
&lt;b&gt;Optical band names&lt;/b&gt;, &lt;b&gt;SAR band names&lt;/b&gt;: the same bands given by name instead, comma-separated in the model card's order, e.g. B2,B3,B4,B5,B6,B7,B8,B11,B12 or VV,VH. Names are matched loosely (B02 = B2, Sigma0_VV_db = VV; B2 never matches B12); a number is a 1-based index. Give indexes or names, not both.
&lt;b&gt;Model&lt;/b&gt;: a shipped demonstration model (trained on synthetic data: demonstration only, not for mapping) or a model in the models folder of the LandFuse settings (e.g. one made by "Train from reference data").
&lt;b&gt;Model file&lt;/b&gt;: a LandFuse model (.onnx with an embedded model card, or a .pt checkpoint); overrides Model.
&lt;b&gt;Device&lt;/b&gt;: auto (the GPU when usable), cpu or cuda.
&lt;b&gt;Precision&lt;/b&gt;: float32 runs the model as exported; int8 (smaller, can be faster on CPUs) or fp16 (for GPUs) runs the lower-precision copy written beside the model file by "landfuse quantize" or "landfuse export --precision" (e.g. edc-lite.int8.onnx beside edc-lite.onnx); its card records its agreement with the float32 model.
&lt;b&gt;Processing extent&lt;/b&gt;: classify only this extent (the map canvas extent, a drawn one, or a layer's), widened to whole pixels of the optical layer; empty = the whole layer. &lt;b&gt;Processing area mask&lt;/b&gt;: polygons (tick &lt;i&gt;Selected features only&lt;/i&gt; to use the selection); pixels outside them are nodata in the map and left out of its areas.
Advanced: &lt;b&gt;tile size&lt;/b&gt;, &lt;b&gt;overlap&lt;/b&gt; (pixels) and &lt;b&gt;batch size&lt;/b&gt; of the sliding-window inference (empty = the model card's); &lt;b&gt;target CRS&lt;/b&gt; and &lt;b&gt;resolution&lt;/b&gt; (in target CRS units) of the output grid (empty = the optical layer's; the extent is then in the target CRS); &lt;b&gt;SAR unit&lt;/b&gt; of the SAR layer (auto = detected from its values; converted to the unit the model expects).

Outputs: &lt;b&gt;class map&lt;/b&gt; (Byte GeoTIFF, styled with the model's class names), optional &lt;b&gt;confidence&lt;/b&gt; (0-100 % probability of the chosen class), optional &lt;b&gt;cloud-free reconstruction&lt;/b&gt; (CloudSeg and EDC models only), the &lt;b&gt;report&lt;/b&gt; (JSON: class areas, confidence, cloud share, timing, model card) and an &lt;b&gt;explanation&lt;/b&gt; in plain language written from the report's numbers, and optional &lt;b&gt;polygons&lt;/b&gt; (GeoPackage: class_id, class_name, area_ha, styled by class) of the map after a &lt;b&gt;minimum mapping unit&lt;/b&gt; in hectares (smaller patches join their largest neighbour; the raster map is not changed).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/classify.py"/>
        <source>Classify land cover (SAR + optical)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Scores a land-cover map against reference labels on the same class scheme.

&lt;b&gt;Class map&lt;/b&gt;: a LandFuse class map (or any Byte raster of class ids).
&lt;b&gt;Reference labels&lt;/b&gt;: a raster of the true class ids; it is resampled (nearest neighbour) onto the class map's grid. Pixels that are nodata in either raster are left out.
&lt;b&gt;Reference codes&lt;/b&gt; (optional): the class scheme whose label-file codes the reference holds (e.g. dynamic_world for Dynamic World label tiles, 0 = no data, 1 = water ...); empty when it holds class ids.
&lt;b&gt;Cloud mask&lt;/b&gt; (optional): a raster, nonzero = cloud; the metrics are then also given for clear and cloudy pixels apart.

Outputs: the &lt;b&gt;metrics&lt;/b&gt; (JSON: overall accuracy, mean IoU, mean F1, Cohen's kappa, per-class IoU, F1, precision and recall, the confusion matrix with rows = reference and columns = predicted, the most frequent confusions), a &lt;b&gt;confusion-matrix plot&lt;/b&gt; (PNG), and overall accuracy, mean IoU and kappa as numbers for the modeler.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Evaluate a land-cover map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Class map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Reference labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Reference codes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Cloud mask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Metrics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>JSON files (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Confusion matrix</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>PNG images (*.png)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Overall accuracy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Mean IoU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py"/>
        <source>Cohen's kappa</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Writes a short plain-language explanation of a LandFuse classification report: what the map shows, how much of it the model was sure about, and what to check.

&lt;b&gt;Report&lt;/b&gt;: the JSON report written by "Classify land cover".
&lt;b&gt;Metrics&lt;/b&gt; (optional): the metrics JSON written by "Evaluate a land-cover map", to explain the accuracy too.
&lt;b&gt;Language model&lt;/b&gt;: a GGUF file (e.g. Phi-3 mini); empty = the one set in the LandFuse settings, else the small built-in model.

The explanation reads only the report's numbers and the model's class names. Every number it states is checked against the report; when the language model gets one wrong, a template explanation replaces it and says so.

Outputs: the &lt;b&gt;explanation&lt;/b&gt; text file, the same text as a string output, and whether every number was checked against the report and whether the template replaced the language model's text.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Explain a land-cover report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Language model (GGUF)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Explanation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Text files (*.md *.txt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Explanation text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Every number checked against the report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>Template used instead of the language model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/explain.py"/>
        <source>GGUF models (*.gguf)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/sample.py"/>
        <source>Draws a stratified random sample of points from a class map, for you to label and then score the map with "Assess accuracy and estimate areas". The strata are the map's classes.

&lt;b&gt;Sample size&lt;/b&gt;: from the standard error you want for the overall accuracy (&lt;b&gt;target standard error&lt;/b&gt;, e.g. 0.01) and the &lt;b&gt;expected user's accuracy&lt;/b&gt; of the classes, by equation 13 of Olofsson et al. (2014); or give the &lt;b&gt;sample size&lt;/b&gt; yourself. &lt;b&gt;Minimum per class&lt;/b&gt;: rare classes get at least this many points (the paper suggests 50 to 100); the rest is shared in proportion to the mapped areas.

Output: a point layer (GeoPackage) with the fields stratum (class id), map_class (its name) and reference (empty: type the true class of each point there, then assess with the class field "reference"); and the &lt;b&gt;design&lt;/b&gt; (JSON: mapped areas, weights, sample size and points per class).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/sample.py"/>
        <source>Create a stratified random sample</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py"/>
        <source>Trains a LandFuse fusion model on your own reference data: points or polygons of your classes drawn over an optical and a SAR layer. Training runs in the LandFuse backend (GPU when available, else CPU).

&lt;b&gt;Optical layer&lt;/b&gt;, &lt;b&gt;SAR layer&lt;/b&gt;: rasters GDAL opens; the SAR layer is resampled onto the optical grid. &lt;b&gt;Bands&lt;/b&gt; (1-based indexes) or &lt;b&gt;band names&lt;/b&gt; (comma-separated): the bands to learn from; empty = all bands. The model remembers the band names (the layers' band descriptions), so classifying another scene finds them by name.
&lt;b&gt;Reference features&lt;/b&gt;: a point or polygon layer; tick &lt;i&gt;Selected features only&lt;/i&gt; to use the selection. &lt;b&gt;Class field&lt;/b&gt;: text or numbers. When the layer has a categorized style on that field, its categories give the classes' order, names (legend labels) and colours.
&lt;b&gt;Architecture&lt;/b&gt; and &lt;b&gt;variant&lt;/b&gt;: one of the four fusion models; lite trains in minutes on a CPU, paper sizes want a GPU and, for their encoders, an ImageNet &lt;b&gt;encoder file&lt;/b&gt; (advanced).
&lt;b&gt;Time budget&lt;/b&gt; (minutes) and &lt;b&gt;epochs&lt;/b&gt;: training stops at whichever ends first (epochs 0 = time only).
&lt;b&gt;Processing area&lt;/b&gt;: an extent and/or a polygon mask; only reference features inside it are used.
Advanced: the share of each class's features held out for validation (whole features, not pixels), the training window, how many pixels around a point are labelled, the seed and the number of CPU threads.

Outputs: the &lt;b&gt;model file&lt;/b&gt; (ONNX with its card: bands, normalisation measured on your data, classes and colours, validation scores); by default it is saved in the models folder of the LandFuse settings as &lt;b&gt;model name&lt;/b&gt;.onnx, where the dock and "Classify land cover" list it. The &lt;b&gt;training report&lt;/b&gt; (JSON: per-class validation accuracy, losses, budget) and the &lt;b&gt;curves&lt;/b&gt; (PNG: loss and validation per epoch).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py"/>
        <source>Train from reference data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/banner.py"/>
        <source>No LandFuse backend was found: the interpreter {path} does not exist. Set up the backend once: it installs ONNX Runtime and rasterio (about 300 MB) into your QGIS profile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/banner.py"/>
        <source>Set up the backend…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/banner.py"/>
        <source>Create or repair the backend environment in this QGIS profile, with pip; shows progress and the log.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>LandFuse</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>Choose a model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>Set up the backend first: see the banner at the top of the dock.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>Folder for LandFuse results (kept in this project)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>Choose a folder for the results first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>Choose a folder for your models first: the trained model is saved there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>Done in {seconds:.1f} s: results in {folder}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>Done: results in {folder}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>The LandFuse backend did not start. Set it up again to repair it, or choose another backend interpreter in Settings &gt; Options &gt; LandFuse.
{error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>{path} already exists: give the new model another name, or remove that file first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/dock.py"/>
        <source>Cannot create a folder for the results in {root} ({error}): choose another results folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/inputs.py"/>
        <source>Inputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/inputs.py"/>
        <source>The optical raster (e.g. Sentinel-2): any raster GDAL opens. Web and database layers are listed but must be exported first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/inputs.py"/>
        <source>The SAR raster (e.g. Sentinel-1 VV/VH): any raster GDAL opens. It is resampled onto the optical grid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/inputs.py"/>
        <source>Optical layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/inputs.py"/>
        <source>Optical bands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/inputs.py"/>
        <source>SAR layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/inputs.py"/>
        <source>SAR bands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/inputs.py"/>
        <source>Choose an optical and a SAR layer first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/jobs.py"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/jobs.py"/>
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/jobs.py"/>
        <source>{model}: {message}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>The model that classifies: a shipped demonstration model, one of your models folder, or any model file ('Model file…').</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Add model from URL or file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Copy a .onnx or .pt model file into your models folder, or download one from a URL.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>The model card: the bands the model expects, its classes and training data.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Write the cloud-free image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>CloudSeg and EDC models also reconstruct the optical image without clouds; tick to write it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Explain the result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Write a short explanation of the map with a local language model; every number in it is checked against the report. Phi-3 can be set up in Settings &gt; Options &gt; LandFuse.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Device: checked when the backend starts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Where the backend computes: the GPU it can use, or the CPU.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>LandFuse: models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Model file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>LandFuse: model card</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Device: checking…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>LandFuse: device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Folder for your LandFuse models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Run the model as exported (float32) or a lower-precision copy written beside it with 'landfuse quantize': int8 is smaller and can be faster on CPUs, fp16 is for GPUs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>float32: the model as exported, full precision.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Add a LandFuse model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>https://…/model.onnx or a file path</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>A .onnx or .pt model file, or a URL to one: it is copied or downloaded into your models folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Pick a model file on this computer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Nothing is downloaded until you press OK.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>LandFuse model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>LandFuse models (*.onnx *.pt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Choose a model file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Another model is being fetched: wait for it or cancel it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Precision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Reading the card of {model}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Device: {device}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{precision}: reading the card of {file}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{precision}: the card of the copy could not be read ({error}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>none recorded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>The card of {model} is read when the backend starts.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>Device: backend not available ({error})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>There is no file {path}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{path} already exists: remove it, or rename the new model file first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{precision}: class maps agree with float32 on {agreement} % of {pixels} check pixels, mIoU {difference} points, measured when the copy was written on {on}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{precision}: class maps agree with float32 on {agreement} % of {pixels} check pixels, measured when the copy was written on {on}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{precision}: not checked against float32 ({reason}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{precision}: its card records no precision: it may not be a copy of this model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>File: {size} MB instead of {float_size} MB.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{precision} (suggested on a GPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/model.py"/>
        <source>{precision} (suggested on the CPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/outputs.py"/>
        <source>Land cover ({model})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/outputs.py"/>
        <source>Confidence (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/outputs.py"/>
        <source>Cloud-free reconstruction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/outputs.py"/>
        <source>LandFuse {model} {time}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>Area of each class in the map, in hectares and percent of the valid area.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>Run a classification to read what the map shows.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>What the map shows, written by a local language model; every number is checked against the report.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>Save…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>Save the explanation and its summary line as a Markdown file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>Copy the explanation to the clipboard.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>Save explanation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>Markdown (*.md *.txt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>valid {share:.1f} %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>mean confidence {share:.1f} %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>low confidence {share:.1f} %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/results.py"/>
        <source>cloud in the optical input {share:.1f} %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>Folder for LandFuse results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>Each run writes its class map, confidence map, report and explanation into a new sub-folder of this folder. Kept in the project; empty: the default shown.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>Classify the two layers with the model, in the background.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>Results folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>asked at the first run (the project is not saved yet)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>Stop the run; its files are removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>How far the run is.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>Waiting for the backend… (it runs one classification at a time)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>Cancelled: nothing was written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/run.py"/>
        <source>the classification failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Points or polygons drawn over the optical and SAR layers, each with its class in the class field. A categorized style on that field gives the classes' order, names and colours.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Selected features only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Train on the selected reference features only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>The field that holds each feature's class (text or numbers).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>The fusion model to train (see the LandFuse documentation).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>lite: trains in minutes on a CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>paper: the published size, wants a GPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>The model's size: lite trains in minutes on a CPU, paper wants a GPU.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source> min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Training stops when this time is up, or after the epochs, whichever first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>until the time is up</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Passes over the reference data; 0: as many as the time budget allows.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>The new model's name: it is saved as &lt;name&gt;.onnx in your models folder, with its training report and curves beside it. Empty: the name shown in grey.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Train</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Train a model on the reference features over the inputs' layers and bands, in the background.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Accuracy on the reference features held out from training (whole features, not pixels).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Open the training curves (PNG) or the full training report (JSON).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Reference layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Class field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Architecture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Variant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Time budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Model name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>my-landcover</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Choose a reference layer: points or polygons of your classes over the optical layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>No validation: no reference feature was held out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Stop the training; no model is written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>How far the training is.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Show or hide the training panel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>{train} training, {validation} validation features</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Waiting for the backend… (it runs one job at a time)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Cancelled: no model was written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>the training failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Choose the class field of {layer}: the field that holds each feature's class.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>No feature of {layer} is selected: select reference features, or untick {option}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>The class field {field} of {layer} is empty: fill it in for the reference features, or choose the field that holds the classes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>No reference feature of {layer} lies over the optical layer {optical}: draw the features over the scene, or choose the reference layer of this area.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Done in {seconds:.0f} s: {model}, now selected in the model list.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Validation: overall accuracy {oa:.1f} %, mean IoU {miou:.2f}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Loss and validation curves</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>Training report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>{name}: not validated ({counts})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/dock/training.py"/>
        <source>{name}: {accuracy:.1f} % ({counts})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>Stop the download; fetching the same file again resumes it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>Cancelled: nothing was saved. A download started again resumes where it stopped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>Could not fetch {name}: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>'{source}' is not a LandFuse model file: give a .onnx or .pt file, or a URL ending in one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>LandFuse: fetch {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>Fetching {name}…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>Fetching {name}: {done:.1f} of {total:.1f} MB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>Fetching {name}: {done:.1f} MB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/downloads.py"/>
        <source>Saved {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/main.py"/>
        <source>LandFuse land cover</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/main.py"/>
        <source>Show or hide the LandFuse dock: classify land cover from a SAR and an optical layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/main.py"/>
        <source>LandFuse diagnostics…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/main.py"/>
        <source>LandFuse diagnostics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/main.py"/>
        <source>Asking the backend…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/main.py"/>
        <source>LandFuse: diagnostics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/main.py"/>
        <source>The backend did not answer:
{error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Python interpreter (python*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>The Python of the backend environment. Empty: LANDFUSE_PYTHON, the environment set up from here, or a developer checkout's .venv.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>asked when you first add a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Where your own .onnx and .pt model files live; the dock lists them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>embedded Gemma 3 270M</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>A Phi-3-mini-4k-instruct GGUF (Q4) for explanations; empty: the backend's default language model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Get Phi-3…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Download Phi-3-mini-4k-instruct Q4 (about 2.4 GB) from its publisher and use it for explanations.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>beside each project file: &lt;project folder&gt;/landfuse</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Where the dock writes its runs for every project; empty: beside the project file (asked once for an unsaved project). A folder chosen in the dock for a project comes first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Use the GPU when one is usable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Untick to compute on the CPU even when a GPU is usable.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>model card's</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Pixels per side of the tiles the model sees; 0: the model card's.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Check backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Start the backend with these settings and show its diagnostics.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Create or repair the backend environment in this QGIS profile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Check backend shows the interpreter, versions, devices and paths here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Backend interpreter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Models folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Phi-3 GGUF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Dock output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Default tile size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Get Phi-3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Starting the backend…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Download Phi-3-mini-4k-instruct (Q4 GGUF, about 2.4 GB) from Microsoft's page on Hugging Face into {folder}, and use it for explanations? It runs on your computer; the download can be cancelled and resumed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/settings_page.py"/>
        <source>Phi-3 is already downloaded: {path}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>LandFuse: set up the backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Set up the LandFuse backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>The Python the environment is made from (3.11 or newer).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Pick a Python interpreter on this computer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Preselected from what nvidia-smi reports; change it if you know better.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Python</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Environment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Build</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Downloads the pinned packages from the package index (your pip settings apply).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Set up</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Setting up…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Python interpreter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Python (python* python*.exe)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>No C/C++ compiler was found: this works only where pip finds a ready-made llama-cpp-python wheel.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>CUDA (NVIDIA GPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>Cancelled. Run the setup again to complete the environment.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>The backend is ready ({device}): {python}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/setup_dialog.py"/>
        <source>The setup failed; see the log.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>automatic (match by name)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>'{layer}' comes from the '{provider}' provider (a web service or database): LandFuse reads rasters GDAL opens. Export it first (right-click the layer &gt; Export &gt; Save As...) and choose the saved layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Match the bands by name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Send the model card's band names: the backend finds the bands so named (band descriptions) in the raster, in any order (B02 = B2, Sigma0_VV_db = VV). Untick to choose each band yourself.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>What may be wrong with this input for the chosen model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>The bands to choose appear once the model's card is read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Also reconstructs a cloud-free optical image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Optical bands: {bands}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>SAR bands: {bands}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Classes: {classes}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Training data: {data}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>'{layer}' has {count} band(s); the model needs {needed} ({bands}).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>No band of '{layer}' is named {bands}: untick Automatic and choose a band in each of these rows, or the run stops.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>The bands of '{layer}' for {bands} have no names: they were chosen by position. Check them against the model card.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Bands named differently from the model's: {bands}. Check them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Band(s) {bands} feed several model bands.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>not stated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Licence: {licence}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>The band of '{layer}' that feeds the model's band {band} ({unit}). '{automatic}' sends the name {band}: the backend finds the band so named.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../plugin/widgets.py"/>
        <source>Band {row} of the model card: {band}, in {unit}.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
