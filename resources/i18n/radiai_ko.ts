<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR" sourcelanguage="en">
<context>
    <name>RadiAI</name>
    <message>
        <source>Patient / study / series / image</source>
        <translation>환자 / 검사 / 시리즈 / 영상</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>정보</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>결과</translation>
    </message>
    <message>
        <source>No image analysed yet.</source>
        <translation>아직 분석한 영상이 없습니다.</translation>
    </message>
    <message>
        <source>Show all labels</source>
        <translation>모든 항목 보기</translation>
    </message>
    <message>
        <source>Show top 3 only</source>
        <translation>상위 3개만 보기</translation>
    </message>
    <message>
        <source>Analysing {name}…</source>
        <translation>{name} 분석 중…</translation>
    </message>
    <message>
        <source>Not analysed.</source>
        <translation>분석하지 않음.</translation>
    </message>
    <message>
        <source>&lt;b&gt;{name}&lt;/b&gt; — findings</source>
        <translation>&lt;b&gt;{name}&lt;/b&gt; — 소견</translation>
    </message>
    <message>
        <source>Age: {age}</source>
        <translation>나이: {age}</translation>
    </message>
    <message>
        <source>&lt;b&gt;{name}: not analysed.&lt;/b&gt; This image {message}.</source>
        <translation>&lt;b&gt;{name}: 분석하지 않음.&lt;/b&gt; 이 영상은 {message}.</translation>
    </message>
    <message>
        <source>Show the heat map of {name}</source>
        <translation>{name}의 히트맵 보기</translation>
    </message>
    <message>
        <source>(score {score}, threshold {threshold})</source>
        <translation>(점수 {score}, 임계값 {threshold})</translation>
    </message>
    <message>
        <source>agree</source>
        <translation>동의</translation>
    </message>
    <message>
        <source>disagree</source>
        <translation>동의하지 않음</translation>
    </message>
    <message>
        <source>Search name or patient ID</source>
        <translation>이름 또는 환자 ID 검색</translation>
    </message>
    <message>
        <source>From</source>
        <translation>시작</translation>
    </message>
    <message>
        <source>Select an analysis.</source>
        <translation>분석을 선택하세요.</translation>
    </message>
    <message>
        <source>Save verdicts</source>
        <translation>판정 저장</translation>
    </message>
    <message>
        <source>Reopen</source>
        <translation>다시 열기</translation>
    </message>
    <message>
        <source>Delete analysis…</source>
        <translation>분석 삭제…</translation>
    </message>
    <message>
        <source>Delete patient…</source>
        <translation>환자 삭제…</translation>
    </message>
    <message>
        <source>to</source>
        <translation>~</translation>
    </message>
    <message>
        <source>Patient / analysis</source>
        <translation>환자 / 분석</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>날짜</translation>
    </message>
    <message>
        <source>Call</source>
        <translation>판정</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Analysed {when}; study date {date}</source>
        <translation>{when}에 분석; 검사일 {date}</translation>
    </message>
    <message>
        <source>Analysed {when} with {model}</source>
        <translation>{when}에 {model}(으)로 분석</translation>
    </message>
    <message>
        <source>note</source>
        <translation>메모</translation>
    </message>
    <message>
        <source>No patient ID</source>
        <translation>환자 ID 없음</translation>
    </message>
    <message>
        <source>study</source>
        <translation>검사</translation>
    </message>
    <message>
        <source>Refused: this image {message}.</source>
        <translation>분석 대상 아님: 이 영상은 {message}.</translation>
    </message>
    <message>
        <source>Call: &lt;b&gt;{call}&lt;/b&gt;</source>
        <translation>판정: &lt;b&gt;{call}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Refused {when} by the scope gate</source>
        <translation>{when}에 적용 범위 검사(게이트)로 분석 거부</translation>
    </message>
    <message>
        <source>Refused {when} by the scope gate {gate}</source>
        <translation>{when}에 적용 범위 검사(게이트) {gate}(으)로 분석 거부</translation>
    </message>
    <message>
        <source>Call: &lt;b&gt;{call}&lt;/b&gt; (threshold {threshold})</source>
        <translation>판정: &lt;b&gt;{call}&lt;/b&gt; (임계값 {threshold})</translation>
    </message>
    <message>
        <source>Open files</source>
        <translation>파일 열기</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>폴더 열기</translation>
    </message>
    <message>
        <source>Export PDF…</source>
        <translation>PDF 내보내기…</translation>
    </message>
    <message>
        <source>Export PNG snapshot…</source>
        <translation>PNG 스냅샷 내보내기…</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>CSV 내보내기…</translation>
    </message>
    <message>
        <source>Anonymise exports</source>
        <translation>내보내기 익명화</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>종료</translation>
    </message>
    <message>
        <source>Fit to window</source>
        <translation>창에 맞추기</translation>
    </message>
    <message>
        <source>Actual size (1:1)</source>
        <translation>실제 크기 (1:1)</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>확대</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>축소</translation>
    </message>
    <message>
        <source>Invert</source>
        <translation>반전</translation>
    </message>
    <message>
        <source>Reset view</source>
        <translation>보기 초기화</translation>
    </message>
    <message>
        <source>Heat map on/off</source>
        <translation>히트맵 켜기/끄기</translation>
    </message>
    <message>
        <source>Lung contour on/off</source>
        <translation>폐 윤곽 켜기/끄기</translation>
    </message>
    <message>
        <source>Boxes on/off</source>
        <translation>상자 켜기/끄기</translation>
    </message>
    <message>
        <source>DICOM tags</source>
        <translation>DICOM 태그</translation>
    </message>
    <message>
        <source>History</source>
        <translation>기록</translation>
    </message>
    <message>
        <source>Analyse all</source>
        <translation>모두 분석</translation>
    </message>
    <message>
        <source>Cancel work</source>
        <translation>작업 취소</translation>
    </message>
    <message>
        <source>About RadiAI</source>
        <translation>RadiAI 정보</translation>
    </message>
    <message>
        <source>Not loaded yet.</source>
        <translation>아직 불러오지 않았습니다.</translation>
    </message>
    <message>
        <source>Chest radiograph reading assistant</source>
        <translation>흉부 방사선 사진 판독 보조</translation>
    </message>
    <message>
        <source>Intended use</source>
        <translation>사용 목적</translation>
    </message>
    <message>
        <source>RadiAI helps a radiologist read frontal chest radiographs of children. It refuses, with the reason, images that are not chest radiographs, lateral views and adults' films (18 years or more by the DICOM header, or estimated from the image); children outside the training ages (1–5 years) are read with a caution. The reading radiologist decides.</source>
        <translation>RadiAI는 판독의가 소아의 흉부 정면 방사선 사진을 판독하도록 돕습니다. 흉부 방사선 사진이 아닌 영상, 측면 영상, 성인 영상(DICOM 헤더의 나이가 18세 이상이거나 영상으로 추정한 경우)은 이유와 함께 분석하지 않으며, 학습 연령(1–5세) 밖의 소아는 주의 문구와 함께 판독합니다. 최종 판단은 판독의가 합니다.</translation>
    </message>
    <message>
        <source>Models loaded</source>
        <translation>불러온 모델</translation>
    </message>
    <message>
        <source>unknown (not installed)</source>
        <translation>알 수 없음(설치되지 않음)</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>단축키</translation>
    </message>
    <message>
        <source>Heat map</source>
        <translation>히트맵</translation>
    </message>
    <message>
        <source>Lung contour</source>
        <translation>폐 윤곽</translation>
    </message>
    <message>
        <source>Boxes</source>
        <translation>상자</translation>
    </message>
    <message>
        <source>Drop a study folder or radiographs here, or use File → Open.</source>
        <translation>검사 폴더나 방사선 사진을 여기에 끌어다 놓거나 파일 → 열기를 사용하세요.</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <source>Recent</source>
        <translation>최근 항목</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>보기(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Analysis</source>
        <translation>분석(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>언어</translation>
    </message>
    <message>
        <source>The language changes when RadiAI is started again.</source>
        <translation>RadiAI를 다시 시작하면 언어가 바뀝니다.</translation>
    </message>
    <message>
        <source>Cancelled: {analysed} analysed, {refused} refused, {unreadable} could not be read, {ignored} ignored (not images).</source>
        <translation>취소됨: {analysed}개 분석, {refused}개 분석 대상 아님, {unreadable}개 읽을 수 없음, {ignored}개는 영상이 아니어서 건너뜀.</translation>
    </message>
    <message>
        <source>Done: {analysed} analysed, {refused} refused, {unreadable} could not be read, {ignored} ignored (not images).</source>
        <translation>완료: {analysed}개 분석, {refused}개 분석 대상 아님, {unreadable}개 읽을 수 없음, {ignored}개는 영상이 아니어서 건너뜀.</translation>
    </message>
    <message>
        <source>See Skipped files.</source>
        <translation>건너뛴 파일 목록을 보세요.</translation>
    </message>
    <message>
        <source>{rows} row(s) written to {path}: {analysed} analysed, {refused} refused, {unreadable} could not be read, {ignored} ignored (not images).</source>
        <translation>{path}에 {rows}행을 저장했습니다: {analysed}개 분석, {refused}개 분석 대상 아님, {unreadable}개 읽을 수 없음, {ignored}개는 영상이 아니어서 건너뜀.</translation>
    </message>
    <message>
        <source>Cancelled: {rows} row(s) written to {path}: {analysed} analysed, {refused} refused, {unreadable} could not be read, {ignored} ignored (not images).</source>
        <translation>취소됨: {path}에 {rows}행을 저장했습니다: {analysed}개 분석, {refused}개 분석 대상 아님, {unreadable}개 읽을 수 없음, {ignored}개는 영상이 아니어서 건너뜀.</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>취소 중…</translation>
    </message>
    <message>
        <source>Reopening…</source>
        <translation>다시 여는 중…</translation>
    </message>
    <message>
        <source>Stored analysis, reopened from the history</source>
        <translation>기록에서 다시 연 저장된 분석</translation>
    </message>
    <message>
        <source>Writing the PDF…</source>
        <translation>PDF 작성 중…</translation>
    </message>
    <message>
        <source>Heat map opacity</source>
        <translation>히트맵 불투명도</translation>
    </message>
    <message>
        <source>Studies</source>
        <translation>검사</translation>
    </message>
    <message>
        <source>Findings</source>
        <translation>소견</translation>
    </message>
    <message>
        <source>Skipped files</source>
        <translation>건너뛴 파일</translation>
    </message>
    <message>
        <source>Window: from file</source>
        <translation>창: 파일 설정</translation>
    </message>
    <message>
        <source>Window: lung</source>
        <translation>창: 폐</translation>
    </message>
    <message>
        <source>Window: bone</source>
        <translation>창: 뼈</translation>
    </message>
    <message>
        <source>Window: soft tissue</source>
        <translation>창: 연부 조직</translation>
    </message>
    <message>
        <source>Models loaded. Drop a study folder or radiographs here, or use File → Open.</source>
        <translation>모델을 불러왔습니다. 검사 폴더나 방사선 사진을 여기에 끌어다 놓거나 파일 → 열기를 사용하세요.</translation>
    </message>
    <message>
        <source>Nothing to analyse: open radiographs or a folder first.</source>
        <translation>분석할 것이 없습니다: 먼저 방사선 사진이나 폴더를 여세요.</translation>
    </message>
    <message>
        <source>Open and analyse an image first.</source>
        <translation>먼저 영상을 열고 분석하세요.</translation>
    </message>
    <message>
        <source>Open a folder or radiographs first.</source>
        <translation>먼저 폴더나 방사선 사진을 여세요.</translation>
    </message>
    <message>
        <source>Reopened {name} from the history.</source>
        <translation>기록에서 {name}을(를) 다시 열었습니다.</translation>
    </message>
    <message>
        <source>Mouse: wheel zooms around the cursor, left-drag pans, right-drag sets window (left/right) and level (up/down).</source>
        <translation>마우스: 휠은 커서를 중심으로 확대/축소, 왼쪽 드래그는 이동, 오른쪽 드래그는 창 폭(좌우)과 창 중심(상하)을 조절합니다.</translation>
    </message>
    <message>
        <source>Analysed {name} in {ms} ms.</source>
        <translation>{name} 분석 완료 ({ms} ms).</translation>
    </message>
    <message>
        <source>{name}: refused.</source>
        <translation>{name}: 분석 대상이 아님.</translation>
    </message>
    <message>
        <source>Refused: no findings (lung contour only)</source>
        <translation>분석 대상 아님: 소견 없음 (폐 윤곽만)</translation>
    </message>
    <message>
        <source>{share} of map</source>
        <translation>히트맵의 {share}</translation>
    </message>
    <message>
        <source>Indeterminate — read without the AI's call: no heat map</source>
        <translation>판정 보류 — AI 판정 없이 판독하세요: 히트맵 없음</translation>
    </message>
    <message>
        <source>(score {score}; pneumonia ≥ {high}, none &lt; {low})</source>
        <translation>(점수 {score}; {high} 이상 폐렴, {low} 미만 폐렴 아님)</translation>
    </message>
    <message>
        <source>No positive finding: no heat map</source>
        <translation>양성 소견 없음: 히트맵 없음</translation>
    </message>
    <message>
        <source>Heat map: {name}</source>
        <translation>히트맵: {name}</translation>
    </message>
    <message>
        <source>Decision support, not a diagnosis.</source>
        <translation>진단이 아니라 판독을 돕는 정보입니다.</translation>
    </message>
    <message>
        <source>None of the first {n} images could be analysed (refused or unreadable, see their rows); showing the first. Analysis → Analyse all gives every image's result.</source>
        <translation>처음 {n}개 영상을 모두 분석하지 못했습니다(거부되었거나 읽을 수 없음, 각 행 참조). 첫 영상을 표시합니다. 분석 → 모두 분석으로 모든 영상의 결과를 볼 수 있습니다.</translation>
    </message>
    <message>
        <source> (heat map hidden)</source>
        <translation> (히트맵 숨김)</translation>
    </message>
    <message>
        <source>pneumonia</source>
        <translation>폐렴</translation>
    </message>
    <message>
        <source>no pneumonia</source>
        <translation>폐렴 아님</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>정상</translation>
    </message>
    <message>
        <source>bacterial pneumonia</source>
        <translation>세균성 폐렴</translation>
    </message>
    <message>
        <source>viral pneumonia</source>
        <translation>바이러스성 폐렴</translation>
    </message>
    <message>
        <source>Above threshold: {labels}</source>
        <translation>임계값 이상: {labels}</translation>
    </message>
    <message>
        <source>No label above its threshold</source>
        <translation>임계값 이상인 소견 없음</translation>
    </message>
    <message>
        <source>threshold {threshold}</source>
        <translation>임계값 {threshold}</translation>
    </message>
    <message>
        <source>hyperinflation</source>
        <translation>과팽창</translation>
    </message>
    <message>
        <source>respiratory distress syndrome</source>
        <translation>호흡곤란증후군</translation>
    </message>
    <message>
        <source>atelectasis</source>
        <translation>무기폐</translation>
    </message>
    <message>
        <source>air leak</source>
        <translation>공기 누출</translation>
    </message>
    <message>
        <source>pleural effusion</source>
        <translation>흉막 삼출</translation>
    </message>
    <message>
        <source>abnormal finding</source>
        <translation>이상 소견</translation>
    </message>
    <message>
        <source>no abnormal finding</source>
        <translation>이상 소견 없음</translation>
    </message>
    <message>
        <source>Export PDF snapshot</source>
        <translation>PDF 스냅샷 내보내기</translation>
    </message>
    <message>
        <source>Export PNG snapshot of the view</source>
        <translation>보기 화면을 PNG 스냅샷으로 내보내기</translation>
    </message>
    <message>
        <source>Analyse into a CSV table</source>
        <translation>CSV 표로 분석하기</translation>
    </message>
    <message>
        <source>PDF written: {path}</source>
        <translation>PDF 저장됨: {path}</translation>
    </message>
    <message>
        <source>Snapshot written: {path}</source>
        <translation>스냅샷 저장됨: {path}</translation>
    </message>
    <message>
        <source>Analysing {n} image(s) into {name}…</source>
        <translation>영상 {n}장을 {name}(으)로 분석하는 중…</translation>
    </message>
    <message>
        <source>Cancelled: {rows} row(s) written to {path}.</source>
        <translation>취소됨: {path}에 {rows}행을 저장했습니다.</translation>
    </message>
    <message>
        <source>{rows} row(s) written to {path}.</source>
        <translation>{path}에 {rows}행을 저장했습니다.</translation>
    </message>
    <message>
        <source>Not stored in the history: {problem}</source>
        <translation>기록에 저장되지 않음: {problem}</translation>
    </message>
    <message>
        <source>indeterminate — read without the AI's call</source>
        <translation>판정 보류 — AI 판정 없이 판독하세요</translation>
    </message>
    <message>
        <source>Evidence by lung zone: {zones}</source>
        <translation>폐야별 근거: {zones}</translation>
    </message>
    <message>
        <source>Evidence diffuse: no single region stands out, so no box is drawn.</source>
        <translation>근거가 미만성: 두드러진 한 영역이 없어 상자를 그리지 않습니다.</translation>
    </message>
    <message>
        <source>Boxes weighing mostly outside the lung contour: {n}</source>
        <translation>무게가 대부분 폐 윤곽 밖인 상자: {n}개</translation>
    </message>
    <message>
        <source>{share} of map, mostly outside the lungs</source>
        <translation>히트맵의 {share}, 대부분 폐 밖</translation>
    </message>
    <message>
        <source>{zone} zone {share}</source>
        <translation>{zone} {share}</translation>
    </message>
    <message>
        <source>{share} outside the lungs</source>
        <translation>폐 밖 {share}</translation>
    </message>
    <message>
        <source>no lung zone holds 10 % of the map</source>
        <translation>히트맵의 10 % 이상인 폐야 없음</translation>
    </message>
    <message>
        <source>right upper</source>
        <translation>우상폐야</translation>
    </message>
    <message>
        <source>right middle</source>
        <translation>우중폐야</translation>
    </message>
    <message>
        <source>right lower</source>
        <translation>우하폐야</translation>
    </message>
    <message>
        <source>left upper</source>
        <translation>좌상폐야</translation>
    </message>
    <message>
        <source>left middle</source>
        <translation>좌중폐야</translation>
    </message>
    <message>
        <source>left lower</source>
        <translation>좌하폐야</translation>
    </message>
    <message>
        <source>Heat map: {name} {p} — below threshold, not called: map shown on request</source>
        <translation>히트맵: {name} {p} — 임계값 미만, 판정하지 않음: 요청에 따라 표시</translation>
    </message>
    <message>
        <source>Heat map: {name} {p} — indeterminate, not called: map shown on request</source>
        <translation>히트맵: {name} {p} — 판정 보류, 판정하지 않음: 요청에 따라 표시</translation>
    </message>
    <message>
        <source>Heat map: {name} {p} — not called: map shown on request</source>
        <translation>히트맵: {name} {p} — 판정하지 않음: 요청에 따라 표시</translation>
    </message>
    <message>
        <source>Refused: not a frontal chest radiograph (no findings, no lung contour)</source>
        <translation>분석 제외: 흉부 정면 방사선 사진이 아님(소견 없음, 폐 윤곽 없음)</translation>
    </message>
    <message>
        <source>(not a DICOM file: no tags)</source>
        <translation>(DICOM 파일이 아님: 태그 없음)</translation>
    </message>
    <message>
        <source>(the tags cannot be read: {message})</source>
        <translation>(태그를 읽을 수 없음: {message})</translation>
    </message>
    <message>
        <source>(the file cannot be read: no tags)</source>
        <translation>(파일을 읽을 수 없음: 태그 없음)</translation>
    </message>
    <message>
        <source>Cannot show {name}</source>
        <translation>{name}을(를) 표시할 수 없음</translation>
    </message>
    <message>
        <source>unreadable</source>
        <translation>읽을 수 없음</translation>
    </message>
    <message>
        <source>Nothing to cancel.</source>
        <translation>취소할 작업이 없습니다.</translation>
    </message>
    <message>
        <source>Analyse all is running ({done} of {total} done).</source>
        <translation>전체 분석이 진행 중입니다({total}장 중 {done}장 완료).</translation>
    </message>
    <message>
        <source>The CSV export is running.</source>
        <translation>CSV 내보내기가 진행 중입니다.</translation>
    </message>
    <message>
        <source>Quit RadiAI?</source>
        <translation>RadiAI를 종료할까요?</translation>
    </message>
    <message>
        <source>Quit and stop it? What is done is kept in the history.</source>
        <translation>작업을 중단하고 종료할까요? 완료된 분석은 기록에 남습니다.</translation>
    </message>
    <message>
        <source>Deleted from the history (shown as it was stored)</source>
        <translation>기록에서 삭제됨(저장되어 있던 그대로 표시)</translation>
    </message>
    <message>
        <source>indeterminate</source>
        <translation>판정 보류</translation>
    </message>
    <message>
        <source>PACS…</source>
        <translation>PACS…</translation>
    </message>
    <message>
        <source>DICOM node {aet} listening on port {port}</source>
        <translation>DICOM 노드 {aet}: 포트 {port}에서 수신 대기 중</translation>
    </message>
    <message>
        <source>The DICOM node could not start: {message}</source>
        <translation>DICOM 노드를 시작할 수 없습니다: {message}</translation>
    </message>
    <message>
        <source>DICOM node stopped</source>
        <translation>DICOM 노드 중지됨</translation>
    </message>
    <message>
        <source>{n} image(s) arrived from the PACS</source>
        <translation>PACS에서 영상 {n}장이 도착했습니다</translation>
    </message>
    <message>
        <source>PACS</source>
        <translation>PACS</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>검색</translation>
    </message>
    <message>
        <source>Retrieve and open</source>
        <translation>가져와서 열기</translation>
    </message>
    <message>
        <source>Patient</source>
        <translation>환자</translation>
    </message>
    <message>
        <source>Patient ID</source>
        <translation>환자 ID</translation>
    </message>
    <message>
        <source>Study date</source>
        <translation>검사일</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>설명</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>영상</translation>
    </message>
    <message>
        <source>PACS (AET@host:port)</source>
        <translation>PACS (AET@호스트:포트)</translation>
    </message>
    <message>
        <source>This computer's AE title</source>
        <translation>이 컴퓨터의 AE 타이틀</translation>
    </message>
    <message>
        <source>Patient name</source>
        <translation>환자 이름</translation>
    </message>
    <message>
        <source>DICOM node: receive studies the PACS sends</source>
        <translation>DICOM 노드: PACS가 보내는 검사 받기</translation>
    </message>
    <message>
        <source>Listen while the viewer runs</source>
        <translation>뷰어가 실행되는 동안 수신 대기</translation>
    </message>
    <message>
        <source>AE title</source>
        <translation>AE 타이틀</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>포트</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>검색 중…</translation>
    </message>
    <message>
        <source>{n} study(ies) found</source>
        <translation>검사 {n}건을 찾았습니다</translation>
    </message>
    <message>
        <source>Retrieving…</source>
        <translation>가져오는 중…</translation>
    </message>
    <message>
        <source>{n} image(s) retrieved</source>
        <translation>영상 {n}장을 가져왔습니다</translation>
    </message>
    <message>
        <source>(binary data, not shown)</source>
        <translation>(이진 데이터, 표시하지 않음)</translation>
    </message>
    <message>
        <source>(no patient ID)</source>
        <translation>(환자 ID 없음)</translation>
    </message>
    <message>
        <source>(no patient data)</source>
        <translation>(환자 정보 없음)</translation>
    </message>
    <message>
        <source>(unreadable bytes, not text: damaged header?)</source>
        <translation>(읽을 수 없는 바이트, 텍스트 아님: 헤더 손상?)</translation>
    </message>
    <message>
        <source>Analysing {n} image(s)…</source>
        <translation>영상 {n}장 분석 중…</translation>
    </message>
    <message>
        <source>Analysing…</source>
        <translation>분석 중…</translation>
    </message>
    <message>
        <source>History unavailable: {error}</source>
        <translation>기록을 사용할 수 없음: {error}</translation>
    </message>
    <message>
        <source>Language: {name}</source>
        <translation>언어: {name}</translation>
    </message>
    <message>
        <source>Loading models…</source>
        <translation>모델을 불러오는 중…</translation>
    </message>
    <message>
        <source>Opened on the first image RadiAI analyses. Above it: {r} refused (their rows say why), {a} not analysed as their header gives an adult's age (each says so when opened).</source>
        <translation>RadiAI가 분석하는 첫 영상으로 열었습니다. 위의 영상: {r}개 분석 거부(각 행에 이유 표시), {a}개는 헤더의 나이가 성인이라 분석하지 않음(열면 이유 표시).</translation>
    </message>
    <message>
        <source>Opened on the first image RadiAI analyses. Above it: {n} refused (their rows say why).</source>
        <translation>RadiAI가 분석하는 첫 영상으로 열었습니다. 위의 영상: {n}개 분석 거부(각 행에 이유 표시).</translation>
    </message>
    <message>
        <source>Opened on the first image RadiAI analyses. Above it: {n} not analysed as their header gives an adult's age (each says so when opened).</source>
        <translation>RadiAI가 분석하는 첫 영상으로 열었습니다. 위의 영상: {n}개는 헤더의 나이가 성인이라 분석하지 않음(열면 이유 표시).</translation>
    </message>
    <message>
        <source>Scanning {n} item(s)…</source>
        <translation>항목 {n}개를 검색하는 중…</translation>
    </message>
    <message>
        <source>Series ({modality})</source>
        <translation>시리즈 ({modality})</translation>
    </message>
    <message>
        <source>Series</source>
        <translation>시리즈</translation>
    </message>
    <message>
        <source>Study</source>
        <translation>검사</translation>
    </message>
    <message>
        <source>The history database was damaged; it was moved to {path} and a new one was started.</source>
        <translation>기록 데이터베이스가 손상되어 {path}(으)로 옮기고 새 데이터베이스를 시작했습니다.</translation>
    </message>
    <message>
        <source>{n} image(s)</source>
        <translation>영상 {n}장</translation>
    </message>
    <message>
        <source>RadiAI — chest radiograph reading assistant</source>
        <translation>RadiAI — 흉부 방사선 사진 판독 보조</translation>
    </message>
    <message>
        <source>Window width and level, in the file's units</source>
        <translation>창 너비와 레벨(파일의 단위)</translation>
    </message>
    <message>
        <source>Scan cancelled: {n} image(s) in {patients} patient(s); {skipped} file(s) skipped.</source>
        <translation>검색 취소됨: 환자 {patients}명의 영상 {n}장, 건너뛴 파일 {skipped}개.</translation>
    </message>
    <message>
        <source>{n} image(s) in {patients} patient(s); {skipped} file(s) skipped.</source>
        <translation>환자 {patients}명의 영상 {n}장, 건너뛴 파일 {skipped}개.</translation>
    </message>
    <message>
        <source>1 analysis</source>
        <translation>분석 1건</translation>
    </message>
    <message>
        <source>{n} analyses</source>
        <translation>분석 {n}건</translation>
    </message>
    <message>
        <source>Also seen as: {paths}</source>
        <translation>다른 경로: {paths}</translation>
    </message>
    <message>
        <source>Call: {call}</source>
        <translation>판정: {call}</translation>
    </message>
    <message>
        <source>Do you agree with the call?</source>
        <translation>이 판정에 동의하십니까?</translation>
    </message>
    <message>
        <source>Images without a patient ID</source>
        <translation>환자 ID가 없는 영상</translation>
    </message>
    <message>
        <source>More patients… (double-click)</source>
        <translation>환자 더 보기… (더블클릭)</translation>
    </message>
    <message>
        <source>Patient ID: {id}</source>
        <translation>환자 ID: {id}</translation>
    </message>
    <message>
        <source>Search name, patient ID or file name</source>
        <translation>이름, 환자 ID 또는 파일 이름 검색</translation>
    </message>
    <message>
        <source>The history could not be read: {error}</source>
        <translation>기록을 읽을 수 없습니다: {error}</translation>
    </message>
    <message>
        <source>no label above threshold</source>
        <translation>임계값 이상인 소견 없음</translation>
    </message>
    <message>
        <source>Earlier verdicts per label: {verdicts}</source>
        <translation>이전의 항목별 의견: {verdicts}</translation>
    </message>
    <message>
        <source>This image has no heat map</source>
        <translation>이 영상에는 히트맵이 없습니다</translation>
    </message>
    <message>
        <source>This image has no boxes</source>
        <translation>이 영상에는 상자가 없습니다</translation>
    </message>
    <message>
        <source>Open radiographs</source>
        <translation>방사선 사진 열기</translation>
    </message>
    <message>
        <source>Open study folder</source>
        <translation>검사 폴더 열기</translation>
    </message>
    <message>
        <source>Radiographs</source>
        <translation>방사선 사진</translation>
    </message>
    <message>
        <source>All files</source>
        <translation>모든 파일</translation>
    </message>
</context>
</TS>
